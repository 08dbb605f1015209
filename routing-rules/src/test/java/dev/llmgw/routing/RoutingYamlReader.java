package dev.llmgw.routing;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.llmgw.routing.raw.RoutingYaml;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Test and CLI convenience: binds routing.yaml text to {@link RoutingYaml} with Jackson (unknown keys
 * rejected). The gateway's own loader does this with line numbers; here a failure is an exception.
 */
final class RoutingYamlReader {

  /** The aliases of the shipped config/gateway.yaml that can be targets. */
  static final Set<String> SHIPPED_TARGETS = Set.of("local", "gpt-4o-mini", "gpt-4o");
  static final Path SHIPPED_POLICY = Path.of("..", "config", "routing.yaml");

  static final YAMLMapper MAPPER = YAMLMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
      .build();

  private RoutingYamlReader() {}

  static RoutingYaml read(String yamlText) {
    try {
      return MAPPER.readValue(yamlText, RoutingYaml.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static RoutingYaml read(Path file) {
    try {
      return read(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode tree(String yamlText) {
    try {
      return MAPPER.readTree(yamlText);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Compiles text that must compile, failing with every problem otherwise. */
  static RoutingPolicy policy(String yamlText) {
    return policy(yamlText, Path.of("."));
  }

  /** Compiles text that must compile, with example files relative to {@code baseDir}. */
  static RoutingPolicy policy(String yamlText, Path baseDir) {
    CompileResult r = RuleCompiler.compile(read(yamlText), SHIPPED_TARGETS, baseDir);
    if (!r.ok()) {
      throw new AssertionError("policy does not compile:\n" + String.join("\n",
          r.problems().stream().map(RuleProblem::toString).toList()));
    }
    return r.policyOrNull();
  }

  static RoutingPolicy shipped() {
    try {
      return policy(Files.readString(SHIPPED_POLICY), SHIPPED_POLICY.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The block of config/routing.yaml that turns the second opinion on, commented out there. */
  static final String SECOND_OPINION_OFF = """
          # secondOpinion:
          #   model: bge-small-en-v15-q
          #   band: 0.03
          #   tiers: [high-stakes]
      """;

  /** The shipped policy with its commented-out second opinion turned on. */
  static RoutingPolicy shippedWithSecondOpinion() {
    try {
      String text = Files.readString(SHIPPED_POLICY);
      if (!text.contains(SECOND_OPINION_OFF)) {
        throw new AssertionError("config/routing.yaml no longer has the commented-out block:\n"
            + SECOND_OPINION_OFF);
      }
      return policy(text.replace(SECOND_OPINION_OFF, SECOND_OPINION_OFF.replace("# ", "")),
          SHIPPED_POLICY.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
