package dev.llmgw.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvSubstitutionTest {

  static EnvSubstitution.Result apply(String text, Map<String, String> env) {
    return EnvSubstitution.apply(text, env);
  }

  @Test
  void replacesVariablesAndDefaults() {
    EnvSubstitution.Result r = apply("a: ${A}\nb: ${B:-two}\nc: x${A}y${C:-}z\n", Map.of("A", "1"));

    assertThat(r.text()).isEqualTo("a: 1\nb: two\nc: x1yz\n");
    assertThat(r.problems()).isEmpty();
    assertThat(r.used()).containsEntry("A", 1).containsEntry("B", 2).containsEntry("C", 3);
  }

  @Test
  void anEmptyValueTakesTheDefaultButIsKeptWithoutOne() {
    assertThat(apply("a: ${A:-d}\nb: '${A}'\n", Map.of("A", "")).text())
        .isEqualTo("a: d\nb: ''\n");
  }

  @Test
  void aDefaultMayHoldColonsAndSlashes() {
    assertThat(apply("u: ${U:-http://127.0.0.1:8081/v1}\n", Map.of()).text())
        .isEqualTo("u: http://127.0.0.1:8081/v1\n");
  }

  @Test
  void anUnsetVariableIsAProblemOnItsLine() {
    EnvSubstitution.Result r = apply("a: 1\n\nb: ${MISSING}\n", Map.of());

    assertThat(r.text()).isEqualTo("a: 1\n\nb: \n");
    assertThat(r.problems()).singleElement().satisfies(p -> {
      assertThat(p.line()).isEqualTo(3);
      assertThat(p.message()).contains("MISSING is not set");
    });
  }

  @Test
  void commentsAreLeftAlone() {
    String text = "# uses ${UNSET} in prose\na: ${A} # and ${UNSET} here\nb: 'x # ${A}'\n";
    EnvSubstitution.Result r = apply(text, Map.of("A", "1"));

    assertThat(r.problems()).isEmpty();
    assertThat(r.text()).isEqualTo("# uses ${UNSET} in prose\na: 1 # and ${UNSET} here\nb: 'x # 1'\n");
  }

  @Test
  void linesAreKeptEvenWhenAReferenceIsBroken() {
    EnvSubstitution.Result r = apply("a: ${OPEN\r\nb: ${1X}\nc: ${ML}\n", Map.of("ML", "x\ny"));

    assertThat(r.text()).isEqualTo("a: \r\nb: \nc: \n");
    assertThat(r.problems()).extracting(EnvSubstitution.LineProblem::line).containsExactly(1, 2, 3);
    assertThat(r.problems().get(2).message()).contains("line break");
  }

  @Test
  void findsWhereACommentStarts() {
    assertThat(EnvSubstitution.commentStart("a: b # c")).isEqualTo(5);
    assertThat(EnvSubstitution.commentStart("# all")).isZero();
    assertThat(EnvSubstitution.commentStart("a: b#c")).isEqualTo(6);
    assertThat(EnvSubstitution.commentStart("a: \"x # y\" # z")).isEqualTo(11);
    assertThat(EnvSubstitution.commentStart("a: 'it''s # no' # z")).isEqualTo(16);
    assertThat(EnvSubstitution.commentStart("a: it's # z")).isEqualTo(8);
  }

  @Test
  void everyLineAVariableIsUsedOnIsKept() {
    EnvSubstitution.Result r = apply("a: ${A}\nb: ${B:-x}\nc: ${A}${A}\n# ${A}\nd: ${A}\n", Map.of("A", "1"));

    assertThat(r.used()).containsEntry("A", 1);
    assertThat(r.lines()).containsEntry("A", java.util.List.of(1, 3, 5)).containsEntry("B", java.util.List.of(2));
  }
}
