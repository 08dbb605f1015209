package dev.llmgw.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The worked examples of docs/routing-rules.md are test cases: the doc itself is read, so the doc and
 * the tests cannot drift apart. Every {@code yaml example:NAME} compiles, every {@code yaml cases:NAME}
 * holds for its example, and every {@code yaml condition} compiles inside a rule.
 */
class DocExamplesTest {

  static final DocExamples DOC = DocExamples.load();

  @Test
  void theDocHasWorkedExamplesWithCasesAndConditionExamples() {
    assertThat(DOC.examples).hasSizeGreaterThanOrEqualTo(4);
    assertThat(DOC.cases.keySet()).containsExactlyElementsOf(DOC.examples.keySet());
    assertThat(DOC.conditions).hasSizeGreaterThanOrEqualTo(19);
  }

  @TestFactory
  List<DynamicTest> workedExamples() {
    List<DynamicTest> tests = new ArrayList<>();
    DOC.examples.forEach((name, yaml) -> tests.addAll(CaseTable.tests("example " + name,
        RoutingYamlReader.policy(yaml), RoutingYamlReader.tree(DOC.cases.get(name)))));
    return tests;
  }

  @TestFactory
  List<DynamicTest> conditionExamplesCompile() {
    List<DynamicTest> tests = new ArrayList<>();
    for (String condition : DOC.conditions) {
      tests.add(DynamicTest.dynamicTest(condition.lines().findFirst().orElse(""),
          () -> RoutingYamlReader.policy(DocExamples.policyWith(condition))));
    }
    return tests;
  }

  @Test
  void theTraceShownForTheShippedPolicyIsTheOneItGives() throws Exception {
    java.util.Map<String, String> headers = java.util.Map.of("x-gateway-tier", "premium");
    RouteDecision d = RoutingYamlReader.shipped().explainBlocking(FeatureExtractor.extract(
        EvalSet.JSON.readTree(DOC.requests.get("shipped")), headers::get, null, null), null,
        "high-stakes");
    assertThat(d.tier() + " " + d.rule()).isEqualTo("balanced code");
    assertThat(d.trace()).extracting(TraceStep::toString)
        .containsExactlyElementsOf(DOC.traces.get("shipped").lines().toList());
  }

  @Test
  void everyConditionKindHasAnExample() {
    String all = String.join("\n", DOC.conditions);
    for (String kind : ConditionCompiler.KINDS) {
      assertThat(all).as("an example of %s", kind).containsPattern("(?m)(^|[{ ])" + kind + ":");
    }
  }
}
