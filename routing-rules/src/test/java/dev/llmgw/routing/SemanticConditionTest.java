package dev.llmgw.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgw.routing.semantic.SemanticScores;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The semantic condition against hand-made scores: it matches on one segment, and asks for the
 * second opinion only when the scores it would decide on are within the band of its thresholds.
 */
class SemanticConditionTest {

  static final List<String> TIERS = List.of("trivial", "high-stakes");
  /** high-stakes with minScore 0.25 and margin 0.03 (the shipped rule's thresholds). */
  final SemanticCondition rule = new SemanticCondition("high-stakes", 1, 0.25, 0.03, true);

  static RequestFeatures with(double band, boolean refined, double[]... segments)
      throws Exception {
    RequestFeatures f = RoutingPolicyTest.chat("anything");
    f.semantic(new SemanticScores(TIERS, segments, List.of(), band, refined));
    return f;
  }

  @Test
  void withoutASecondModelItDecidesOnItsThresholdsAlone() throws Exception {
    assertThat(rule.test(with(0, false, new double[] {0.30, 0.34}))).isTrue(); // lead 0.04
    assertThat(rule.test(with(0, false, new double[] {0.30, 0.32}))).isFalse(); // lead 0.02
    assertThat(rule.test(with(0, false, new double[] {0.10, 0.24}))).isFalse(); // score < 0.25
  }

  @Test
  void scoresWithinTheBandOfAThresholdAskForTheSecondOpinion() throws Exception {
    // lead 0.04 and 0.02 are both within 0.03 of the margin 0.03
    assertThatThrownBy(() -> rule.test(with(0.03, false, new double[] {0.30, 0.34})))
        .isInstanceOf(SignalNeeded.class)
        .satisfies(e -> assertThat(((SignalNeeded) e).kind()).isEqualTo(SignalNeeded.Kind.SEMANTIC));
    assertThatThrownBy(() -> rule.test(with(0.03, false, new double[] {0.30, 0.32})))
        .isInstanceOf(SignalNeeded.class);
    // with a margin, closeness is the lead's, for scores from minScore - band up
    assertThatThrownBy(() -> rule.test(with(0.03, false, new double[] {0.20, 0.23})))
        .isInstanceOf(SignalNeeded.class);
    assertThat(rule.test(with(0.03, false, new double[] {0.18, 0.21}))).isFalse(); // score < 0.22
    assertThat(rule.test(with(0.03, false, new double[] {0.10, 0.24}))).isFalse(); // lead 0.14
  }

  @Test
  void clearScoresDecideAtOnce() throws Exception {
    assertThat(rule.test(with(0.03, false, new double[] {0.20, 0.40}))).isTrue(); // lead 0.20
    assertThat(rule.test(with(0.03, false, new double[] {0.40, 0.20}))).isFalse(); // lead -0.20
    assertThat(rule.test(with(0.03, false, new double[] {0.10, 0.15}))).isFalse(); // score far under
    // one segment that qualifies clearly is enough, whatever another segment's closeness
    assertThat(rule.test(with(0.03, false, new double[] {0.30, 0.32}, new double[] {0.1, 0.5})))
        .isTrue();
  }

  @Test
  void refinedOrSettledScoresNeverAskAgain() throws Exception {
    assertThat(rule.test(with(0, true, new double[] {0.30, 0.34}))).isTrue();
    RequestFeatures f = with(0.03, false, new double[] {0.30, 0.32});
    f.semantic(f.semantic().withoutSecondOpinion());
    assertThat(rule.test(f)).isFalse();
  }

  @Test
  void withoutAMarginTheScoreAloneIsCompared() throws Exception {
    SemanticCondition noMargin = new SemanticCondition("high-stakes", 1, 0.25, Double.NaN, true);
    assertThatThrownBy(() -> noMargin.test(with(0.03, false, new double[] {0.9, 0.26})))
        .isInstanceOf(SignalNeeded.class);
    assertThat(noMargin.test(with(0.03, false, new double[] {0.9, 0.30}))).isTrue();
    assertThat(noMargin.test(with(0.03, false, new double[] {0.9, 0.20}))).isFalse();
  }

  @Test
  void aConditionOfATierTheSecondOpinionIsNotForDecidesOnTheFirstScores() throws Exception {
    // secondOpinion.tiers leaves this tier out: a close call is decided as without a second model
    SemanticCondition trivial = new SemanticCondition("trivial", 0, 0.0, 0.1, false);
    assertThat(trivial.test(with(0.03, false, new double[] {0.40, 0.31}))).isFalse(); // lead 0.09
    assertThat(trivial.test(with(0.03, false, new double[] {0.40, 0.29}))).isTrue(); // lead 0.11
    // the same thresholds, asking
    SemanticCondition asking = new SemanticCondition("trivial", 0, 0.0, 0.1, true);
    assertThatThrownBy(() -> asking.test(with(0.03, false, new double[] {0.40, 0.31})))
        .isInstanceOf(SignalNeeded.class);
  }
}
