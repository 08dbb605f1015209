package dev.llmgw.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The compiled policy: prebuilt decisions, explain agreeing with decide, safe to share. */
class RoutingPolicyTest {

  static final RoutingPolicy SHIPPED = RoutingYamlReader.shipped();

  static RequestFeatures chat(String text) throws Exception {
    JsonNode body = EvalSet.JSON.readTree("{\"model\":\"auto\",\"messages\":[{\"role\":\"user\","
        + "\"content\":" + EvalSet.JSON.writeValueAsString(text) + "}]}");
    return FeatureExtractor.extract(body, h -> null, null, null);
  }

  @Test
  void decideReturnsPrebuiltDecisionsWithoutATrace() throws Exception {
    RouteDecision a = SHIPPED.decideBlocking(chat("Write a Python function to merge two lists"), null,
        "high-stakes");
    RouteDecision b = SHIPPED.decideBlocking(chat("Write Java code that parses a date"), null,
        "high-stakes");
    assertThat(a.rule()).isEqualTo("code");
    assertThat(b).isSameAs(a);
    assertThat(a.trace()).isEmpty();
    assertThat(SHIPPED.decideBlocking(chat("hi"), null, "high-stakes"))
        .isSameAs(SHIPPED.decideBlocking(chat("hello"), null, "high-stakes"));
  }

  @Test
  void aRuleReachingTheSemanticSignalAsksForItAndRulesBeforeItDoNot() throws Exception {
    JsonNode hi = EvalSet.JSON.readTree("{\"model\":\"auto\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"hi\"}]}");
    RouteDecision marked = SHIPPED.decide(FeatureExtractor.extract(hi, h -> h.equals("x-stakes") ? "high" : null,
        null, null));
    assertThat(marked.rule()).isEqualTo("marked-high-stakes");
    assertThat(SHIPPED.signal(marked)).isEqualTo("rule");
    RequestFeatures f = chat("My two-year-old just put a button battery in his mouth");
    assertThatThrownBy(() -> SHIPPED.decide(f)).isInstanceOf(SignalNeeded.class)
        .extracting(e -> ((SignalNeeded) e).kind()).isEqualTo(SignalNeeded.Kind.SEMANTIC);
    f.semantic(SHIPPED.computeSemantic(f));
    RouteDecision d = SHIPPED.decide(f);
    assertThat(d.tier()).isEqualTo("high-stakes");
    assertThat(d.rule()).isEqualTo("semantic-high-stakes");
    assertThat(SHIPPED.signal(d)).isEqualTo("semantic");
    // a keyword rule with the harmless-text guard reads the signal too
    RequestFeatures tax = chat("write a limerick about doing my taxes the night before they are due");
    assertThatThrownBy(() -> SHIPPED.decide(tax)).isInstanceOf(SignalNeeded.class);
    assertThat(SHIPPED.decideBlocking(tax, null, "high-stakes").tier()).isNotEqualTo("high-stakes");
    assertThat(SHIPPED.decideBlocking(chat("What dosage of aspirin is safe with warfarin?"), null,
        "high-stakes").rule()).isEqualTo("medical");
  }

  /**
   * The rules run on the event loop, over a last message that may be as long as the body cap: every
   * shipped regex must stay linear in it. An unanchored {@code (?:\D*\d+){3}} took 0.8 s on 20 KB of
   * text without digits (quadratic: every start position rescans the rest), minutes on 1 MiB. The search
   * budget (BoundedFind) would now cut such a search short and read it as no match, so the test also
   * asks that no search gave up: a shipped regex must stay well inside the budget, not lean on it.
   */
  @Test
  void theShippedRulesStayLinearOnMessagesAsLongAsTheBodyCap() throws Exception {
    int mib = 1 << 20;
    String[] texts = {
        "x".repeat(mib), // no digits, no question
        "how many " + "word ".repeat(mib / 5) + "?", // the English word-problem branch with one number word
        "12 " + "y".repeat(mib) + " 7 ?", // two numbers a mebibyte apart
        "one ".repeat(mib / 4)};
    long abandoned = RoutingPolicy.regexSearchesAbandoned();
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> {
      for (String t : texts) {
        SHIPPED.decideBlocking(chat(t), null, "high-stakes");
      }
    });
    assertThat(RoutingPolicy.regexSearchesAbandoned()).as("searches that spent their budget").isEqualTo(abandoned);
    assertThat(SHIPPED.decideBlocking(chat("Ein Zug fährt 3 Stunden mit 80 km/h und dann 2 Stunden mit 60 km/h. "
        + "Wie weit ist er gefahren?"), null, "high-stakes").rule()).isEqualTo("reasoning");
  }

  @Test
  void theFallbackDecisionIsTheSafeTierAndKeepsPinning() throws Exception {
    RouteDecision d = SHIPPED.fallback(chat("hi"), "high-stakes");
    assertThat(d.rule()).isEqualTo(RouteDecision.FALLBACK);
    assertThat(d.targets()).containsExactly("gpt-4o", "gpt-4o-mini", "local");
    JsonNode pinned = EvalSet.JSON.readTree("{\"model\":\"gpt-4o\"}");
    assertThat(SHIPPED.fallback(FeatureExtractor.extract(pinned, h -> null, null, null), "trivial")
        .targets()).containsExactly("gpt-4o");
  }

  @Test
  void explainTriesRulesUntilTheFirstMatch() throws Exception {
    RouteDecision d = SHIPPED.explainBlocking(chat("What are the side effects of ibuprofen?"), null,
        "high-stakes");
    assertThat(d.rule()).isEqualTo("medical");
    assertThat(d.trace()).extracting(TraceStep::rule).containsExactly("marked-high-stakes",
        "high-stakes-role", "consequential-action", "medical");
    assertThat(d.trace()).extracting(TraceStep::matched).containsExactly(false, false, false,
        true);
    assertThat(d.trace().get(3).detail()).contains("keyword 'side effects'");
  }

  @Test
  void explainOfTheDefaultListsEveryRule() throws Exception {
    RouteDecision d = SHIPPED.explainBlocking(chat("Hello there"), null, "high-stakes");
    assertThat(d.rule()).isEqualTo("default");
    assertThat(d.trace()).hasSize(SHIPPED.rules().size() + 1);
    assertThat(d.trace().get(d.trace().size() - 1))
        .isEqualTo(new TraceStep("default", true, "no rule matched: default tier 'trivial'"));
  }

  @Test
  void tiersAndTargets() {
    assertThat(SHIPPED.tiers()).containsExactly("trivial", "balanced", "high-stakes");
    assertThat(SHIPPED.targets("high-stakes")).containsExactly("gpt-4o", "gpt-4o-mini", "local");
    assertThat(SHIPPED.defaultTier()).isEqualTo("trivial");
    assertThat(SHIPPED.version()).isEqualTo(1);
    assertThatThrownBy(() -> SHIPPED.targets("gold"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tier: gold (expected one of: trivial, balanced, high-stakes)");
  }

  @Test
  void withoutAModelsSectionEveryAliasIsPinned() {
    RoutingPolicy p = RoutingYamlReader.policy("defaultTier: t\ntiers: {t: {targets: [local]}}\n");
    assertThat(p.pinned("gpt-4o")).isTrue();
    assertThat(p.pinned("local")).isTrue();
    assertThat(p.pinned("auto")).isFalse();
    assertThat(p.pinned("unknown")).isFalse();
    assertThat(p.forceTierHeader()).isNull();
  }

  @Test
  void forcingNotAllowedIgnoresTheHeader() throws Exception {
    RoutingPolicy p = RoutingYamlReader.policy("""
        defaultTier: t
        tiers: {t: {targets: [local]}, h: {targets: [gpt-4o]}}
        forceTier: {allowed: false}
        """);
    JsonNode body = EvalSet.JSON.readTree("{\"model\":\"auto\"}");
    RouteDecision d = p.explain(FeatureExtractor.extract(body, h -> "h", null, null));
    assertThat(d.tier()).isEqualTo("t");
    assertThat(d.forced()).isFalse();
    assertThat(d.trace()).extracting(TraceStep::rule).containsExactly("default");
  }

  @Test
  void onePolicyServesManyThreads() throws Exception {
    List<String> texts = List.of("hi", "Write a Python function", "my landlord sued me",
        "What dosage of aspirin?", "Write a 2000-word essay on rivers");
    List<String> expected = new ArrayList<>();
    for (String t : texts) {
      expected.add(SHIPPED.decideBlocking(chat(t), null, "high-stakes").rule());
    }
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int task = 0; task < 32; task++) {
        results.add(pool.submit(() -> {
          for (int i = 0; i < 200; i++) {
            int k = i % texts.size();
            if (!SHIPPED.decideBlocking(chat(texts.get(k)), null, "high-stakes").rule()
                .equals(expected.get(k))) {
              return false;
            }
          }
          return true;
        }));
      }
      for (Future<Boolean> r : results) {
        assertThat(r.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(expected).containsExactly("default", "code", "legal", "medical", "long-writing");
  }
}
