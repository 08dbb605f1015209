package dev.llmgw.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DynamicTest;

/**
 * Request-to-decision tables, shared by the golden tests and the docs' worked examples. Each entry:
 * {@code case} (name), {@code request} (body), optional {@code headers}, {@code apiKey}, {@code team},
 * {@code repeatLastUser}, and {@code expect} with {@code tier}, {@code rule} and optionally
 * {@code targets}, {@code forced}, {@code pinned} and {@code explain} (substrings of the trace, one
 * step per line as {@code + rule: detail} or {@code - rule: detail}).
 */
final class CaseTable {

  private CaseTable() {}

  static List<DynamicTest> tests(String prefix, RoutingPolicy policy, JsonNode cases) {
    assertThat(cases.isArray()).as("%s: a list of cases", prefix).isTrue();
    List<DynamicTest> out = new ArrayList<>();
    for (JsonNode c : cases) {
      out.add(DynamicTest.dynamicTest(prefix + ": " + c.path("case").asText(),
          () -> check(policy, c)));
    }
    return out;
  }

  static RequestFeatures features(JsonNode c) {
    Map<String, String> headers = new HashMap<>();
    c.path("headers").properties().forEach(
        e -> headers.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue().asText()));
    JsonNode body = c.get("request").deepCopy();
    int repeat = c.path("repeatLastUser").asInt(0);
    if (repeat > 0) {
      ArrayNode messages = (ArrayNode) body.get("messages");
      ObjectNode last = (ObjectNode) messages.get(messages.size() - 1);
      String text = last.get("content").asText();
      last.set("content", TextNode.valueOf(String.join(" ", java.util.Collections.nCopies(repeat,
          text))));
    }
    return FeatureExtractor.extract(body, headers::get, c.path("apiKey").textValue(),
        c.path("team").textValue());
  }

  static void check(RoutingPolicy policy, JsonNode c) {
    JsonNode expect = c.get("expect");
    // signals: semantic scores computed here; the judge names the case's "judge" tier, or fails
    String verdict = c.path("judge").textValue();
    RouteDecision decided = policy.decideBlocking(features(c), f -> verdict, "high-stakes");
    RouteDecision explained = policy.explainBlocking(features(c), f -> verdict, "high-stakes");
    String trace = explained.trace().stream().map(TraceStep::toString)
        .collect(Collectors.joining("\n"));
    String context = "trace:\n" + trace;

    assertThat(decided.trace()).as("decide() carries no trace").isEmpty();
    assertThat(explained.withTrace(List.of())).as("explain() decides as decide(); " + trace)
        .isEqualTo(decided);
    assertThat(decided.tier()).as("tier; " + context).isEqualTo(expect.get("tier").asText());
    assertThat(decided.rule()).as("rule; " + context).isEqualTo(expect.get("rule").asText());
    if (expect.has("targets")) {
      List<String> targets = new ArrayList<>();
      expect.get("targets").forEach(t -> targets.add(t.asText()));
      assertThat(decided.targets()).as("targets").isEqualTo(targets);
    } else {
      assertThat(decided.targets()).as("targets").isNotEmpty();
    }
    if (expect.has("forced")) {
      assertThat(decided.forced()).as("forced").isEqualTo(expect.get("forced").asBoolean());
    }
    if (expect.has("pinned")) {
      assertThat(decided.pinned()).as("pinned").isEqualTo(expect.get("pinned").asBoolean());
    }
    for (JsonNode s : expect.path("explain")) {
      assertThat(trace).as("explain trace").contains(s.asText());
    }
  }
}
