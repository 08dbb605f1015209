package dev.llmgw.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The golden tables: golden/golden-cases.yaml over golden/golden-policy.yaml (every condition kind,
 * test and combinator, pinning and forcing), and golden/shipped-cases.yaml over the shipped
 * config/routing.yaml.
 */
class GoldenTest {

  static String resource(String name) {
    try (InputStream in = GoldenTest.class.getResourceAsStream("/golden/" + name)) {
      if (in == null) {
        throw new IllegalStateException("no resource golden/" + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The golden policy, its example file beside it. */
  static RoutingPolicy golden() {
    return RoutingYamlReader.policy(resource("golden-policy.yaml"),
        java.nio.file.Path.of("src/test/resources/golden"));
  }

  @TestFactory
  List<DynamicTest> goldenPolicy() {
    return CaseTable.tests("golden", golden(),
        RoutingYamlReader.tree(resource("golden-cases.yaml")));
  }

  @TestFactory
  List<DynamicTest> shippedPolicy() {
    return CaseTable.tests("shipped", RoutingYamlReader.shipped(),
        RoutingYamlReader.tree(resource("shipped-cases.yaml")));
  }

  @Test
  void theGoldenPolicyUsesEveryConditionKind() {
    String policy = resource("golden-policy.yaml");
    for (String kind : ConditionCompiler.KINDS) {
      assertThat(policy).as("condition kind %s", kind).containsPattern("[{ ]" + kind + ":");
    }
  }

  @Test
  void thePolicyReportsItsShape() {
    RoutingPolicy p = golden();
    assertThat(p.version()).isEqualTo(7);
    assertThat(p.tiers()).containsExactly("trivial", "balanced", "high-stakes");
    assertThat(p.defaultTier()).isEqualTo("trivial");
    assertThat(p.targets("balanced")).containsExactly("gpt-4o-mini", "local");
    assertThat(p.forceTierHeader()).isEqualTo("x-gateway-tier");
    assertThat(p.pinned("gpt-4o")).isTrue();
    assertThat(p.pinned("gpt-4o-mini")).isFalse();
    assertThat(p.pinned("auto")).isFalse();
    assertThat(p.rules()).startsWith("header-equals", "header-in").hasSize(30);
  }
}
