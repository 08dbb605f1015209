package dev.llmgw.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The shipped config/routing.yaml over the labelled evaluation set in shared/eval. The dev split is
 * what the policy was tuned on: its numbers are regression floors (what was measured, with a small
 * margin). The test split is measured only, never tuned on: its numbers are printed, with sanity
 * checks alone. Output: target/surefire-reports/dev.llmgw.routing.EvalSetTest-output.txt.
 */
class EvalSetTest {

  // measured on dev when tuning the keyword rules with the semantic classifier (config/semantic/):
  // 34/34 high-stakes kept, 2/232 below label, 77/121 trivial kept trivial (38 go to balanced, the
  // semantic-balanced rule's price for catching balanced work that names no keyword), 6/121 trivial
  // sent to high-stakes, saving 0.770 against all-to-high-stakes
  static final int MAX_HIGH_STAKES_UNDER_ROUTED = 1;
  static final double MAX_SHARE_BELOW_LABEL = 0.025;
  static final double MIN_TRIVIAL_KEPT_TRIVIAL = 0.60;
  static final double MIN_SAVING = 0.75;

  @Test
  void devSplitMeetsTheFloorsMeasuredWhenTuning() {
    RoutingPolicy policy = RoutingYamlReader.shipped();
    List<EvalSet.Row> rows = EvalSet.load(EvalSet.DEV);
    EvalSet.Report r = EvalSet.run(policy, rows);
    System.out.println(r.format("dev split: config/routing.yaml"));
    System.out.println("high-stakes routed below high-stakes: " + r.underRoutedHighStakes);
    System.out.println("misrouted (id label -> routed [rule]):");
    for (EvalSet.Row row : rows) {
      RouteDecision d = policy.decideBlocking(FeatureExtractor.extract(row.body(), h -> null, null,
          null), null, "high-stakes");
      if (!d.tier().equals(row.label())) {
        System.out.println("  " + row.id() + " " + row.label() + " -> " + d.tier() + " ["
            + d.rule() + "]");
      }
    }

    assertThat(r.rows).isEqualTo(232);
    assertThat(r.underRoutedHighStakes).as("high-stakes routed below high-stakes")
        .hasSizeLessThanOrEqualTo(MAX_HIGH_STAKES_UNDER_ROUTED);
    assertThat(r.shareBelowLabel()).as("share routed below label")
        .isLessThanOrEqualTo(MAX_SHARE_BELOW_LABEL);
    assertThat(r.trivialKeptTrivial()).as("trivial kept on trivial")
        .isGreaterThanOrEqualTo(MIN_TRIVIAL_KEPT_TRIVIAL);
    assertThat(r.saving()).as("cost saving vs all high-stakes").isGreaterThanOrEqualTo(MIN_SAVING);
    assertThat(r.confusion[0][2]).as("trivial sent to high-stakes").isLessThanOrEqualTo(8);
  }

  /** The shipped policy over one labelled file, its report printed (the surefire output keeps it). */
  static EvalSet.Report measure(java.nio.file.Path file, String title) {
    return measure(RoutingYamlReader.shipped(), file, title);
  }

  /** {@code policy} over one labelled file, its report printed. */
  static EvalSet.Report measure(RoutingPolicy policy, java.nio.file.Path file, String title) {
    EvalSet.Report r = EvalSet.run(policy, EvalSet.load(file));
    System.out.println(r.format(title));
    return r;
  }

  @Test
  void noShippedRegexSpendsItsSearchBudgetOnTheTuningPrompts() {
    // the budget (BoundedFind) stops runaway patterns; the shipped ones must never come near it
    RoutingPolicy policy = RoutingYamlReader.shipped();
    long before = RoutingPolicy.regexSearchesAbandoned();
    EvalSet.run(policy, EvalSet.load(EvalSet.DEV));
    EvalSet.run(policy, EvalSet.load(EvalSet.DEV_EXTRA));
    EvalSet.run(policy, EvalSet.load(EvalSet.WRITTEN));
    assertThat(RoutingPolicy.regexSearchesAbandoned()).isEqualTo(before);
  }

  @Test
  void devExtraSplitMeetsTheFloorsMeasuredWhenTuning() {
    // the extra development rows (implicit stakes, scary-but-harmless, non-English, multi-turn,
    // agent tools): measured when tuning 131/164 high-stakes kept, 16/116 trivial sent to
    // high-stakes; keyword rules alone kept 66/164 and sent 19/116
    EvalSet.Report r = measure(EvalSet.DEV_EXTRA, "dev-extra split: config/routing.yaml");
    assertThat(r.rows).isEqualTo(358);
    assertThat(r.confusion[2][2]).as("high-stakes kept").isGreaterThanOrEqualTo(126);
    assertThat(r.confusion[0][2]).as("trivial sent to high-stakes").isLessThanOrEqualTo(20);
  }

  @Test
  void theBatchWrittenForThisProjectMeetsTheFloorsMeasuredWhenTuning() {
    // 120 requests written for this project (src/test/resources/eval/written-batch.jsonl) without
    // sight of the rules or the examples, first measured blind (27/30 high-stakes kept, 14/65
    // trivial sent to high-stakes), then used for tuning: 27/30 kept, 3/65 sent
    EvalSet.Report r = measure(EvalSet.WRITTEN, "written batch: config/routing.yaml");
    assertThat(r.rows).isEqualTo(120);
    assertThat(r.confusion[2][2]).as("high-stakes kept").isGreaterThanOrEqualTo(26);
    assertThat(r.confusion[0][2]).as("trivial sent to high-stakes").isLessThanOrEqualTo(5);
  }

  @Test
  void theCheckBatchWrittenForThisProjectIsMeasuredOnly() {
    // 120 more requests written for this project, blind to the rules and the examples, and never
    // tuned on: first measured when the policy was final (29/30 high-stakes kept, 4/120 below label,
    // 6/65 trivial sent to high-stakes); with multilingual-work.jsonl 29/30, 5/120, 5/65. Printed here,
    // asserted only for sanity.
    EvalSet.Report r = measure(EvalSet.WRITTEN_CHECK, "written check batch (measured only): config/routing.yaml");
    assertThat(r.rows).isEqualTo(120);
    assertThat(new int[] {r.count(0), r.count(1), r.count(2)}).containsExactly(65, 25, 30);
  }

  @Test
  void testSplitIsMeasuredOnly() {
    EvalSet.Report r = measure(EvalSet.TEST, "test split (measured only, never tuned on): config/routing.yaml");

    // sanity only: the split is what its README says, and every row got a tier
    assertThat(r.rows).isEqualTo(156);
    assertThat(new int[] {r.count(0), r.count(1), r.count(2)}).containsExactly(81, 52, 23);
    assertThat(r.highStakesRecall()).isBetween(0.0, 1.0);
  }
}
