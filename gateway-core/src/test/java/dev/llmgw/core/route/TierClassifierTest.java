package dev.llmgw.core.route;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.llmgw.routing.FeatureExtractor;
import dev.llmgw.routing.RequestFeatures;
import dev.llmgw.routing.RouteDecision;
import dev.llmgw.routing.RoutingPolicy;
import dev.llmgw.routing.RuleCompiler;
import dev.llmgw.routing.raw.RoutingYaml;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The classifier stage on its own: decides off the caller's thread, and gives the safe tier when full or late. */
class TierClassifierTest {

  @TempDir
  Path dir;

  RoutingPolicy policy() throws Exception {
    Files.writeString(dir.resolve("ex.jsonl"), """
        {"tier": "high-stakes", "text": "there is a strong smell of gas in my kitchen"}
        {"tier": "trivial", "text": "suggest a name for my goldfish"}
        """);
    RoutingYaml raw = new YAMLMapper().readValue("""
        defaultTier: trivial
        tiers: {trivial: {targets: [small]}, high-stakes: {targets: [large]}}
        classifier: {semantic: {examples: [ex.jsonl], k: 1}}
        rules:
          - name: close
            tier: high-stakes
            when: {semantic: {tier: high-stakes, minScore: 0.5}}
        """, RoutingYaml.class);
    return RuleCompiler.compile(raw, Set.of("small", "large"), dir).policyOrNull();
  }

  static RequestFeatures chat(String text) throws Exception {
    return FeatureExtractor.extract(new ObjectMapper().readTree("{\"model\":\"auto\",\"messages\":[{\"role\":"
        + "\"user\",\"content\":\"" + text + "\"}]}"), h -> null, null, null);
  }

  /** Occupies a thread of {@code e} until the returned latch is counted down (a slow classifier). */
  static CountDownLatch hold(java.util.concurrent.Executor e) throws InterruptedException {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch held = new CountDownLatch(1);
    e.execute(() -> {
      held.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    });
    assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
    return release;
  }

  @Test
  void decidesOnItsOwnThreadAndFallsToTheSafeTierWhenItsQueueIsFull() throws Exception {
    RoutingPolicy p = policy();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (TierClassifier c = new TierClassifier(registry)) {
      c.configure(new ClassifierSettings(Duration.ofSeconds(30), Duration.ofSeconds(2), 10, 1, 0));
      RouteDecision gas = c.decide(p, chat("I smell gas in the kitchen"), "high-stakes", null)
          .get(30, TimeUnit.SECONDS);
      assertThat(gas.rule()).isEqualTo("close");
      CountDownLatch release = hold(c.executor());
      CompletableFuture<RouteDecision> waiting = c.decide(p, chat("what is my goldfish called"), "high-stakes", null);
      // one thread, no queue: the next request is refused at once and gets the safe tier
      RouteDecision refused = c.decide(p, chat("name ideas for a cat"), "high-stakes", null).getNow(null);
      assertThat(refused).isNotNull();
      assertThat(refused.rule()).isEqualTo(RouteDecision.FALLBACK);
      assertThat(refused.tier()).isEqualTo("high-stakes");
      assertThat(registry.get("gateway.classifier.fallbacks").tag("reason", "queue_full").counter().count())
          .isEqualTo(1);
      assertThat(waiting).isNotDone();
      release.countDown();
      assertThat(waiting.get(30, TimeUnit.SECONDS).rule()).isEqualTo("default");
      assertThat(registry.get("gateway.classifier.duration").tag("signal", "semantic").timer().count())
          .isEqualTo(1);
    }
  }

  @Test
  void aSecondOpinionIsAskedWhileItsThreadIsFreeAndSkippedWhileItIsBusy() throws Exception {
    Files.writeString(dir.resolve("ex.jsonl"), """
        {"tier": "high-stakes", "text": "there is a strong smell of gas in my kitchen"}
        {"tier": "high-stakes", "text": "my toddler swallowed a button battery"}
        {"tier": "high-stakes", "text": "wire the payroll money to this new account today"}
        {"tier": "trivial", "text": "suggest a name for my goldfish"}
        {"tier": "trivial", "text": "write a haiku about the first snow"}
        """);
    // band 1: every request's scores are "close", so each one wants a second opinion
    var compiled = RuleCompiler.compile(new YAMLMapper().readValue("""
        defaultTier: trivial
        tiers: {trivial: {targets: [small]}, high-stakes: {targets: [large]}}
        classifier:
          semantic:
            examples: [ex.jsonl]
            k: 1
            secondOpinion: {model: bge-small-en-v15-q, band: 1}
        rules:
          - name: close
            tier: high-stakes
            when: {semantic: {tier: high-stakes, minScore: 0.3, margin: 0.0}}
        """, RoutingYaml.class), Set.of("small", "large"), dir);
    assertThat(compiled.problems()).isEmpty();
    RoutingPolicy p = compiled.policyOrNull();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (TierClassifier c = new TierClassifier(registry)) {
      c.configure(new ClassifierSettings(Duration.ofSeconds(30), Duration.ofSeconds(2), 10, 1, 0));
      RequestFeatures asked = chat("I smell gas in the kitchen");
      assertThat(c.decide(p, asked, "high-stakes", null).get(30, TimeUnit.SECONDS).rule())
          .isEqualTo("close");
      assertThat(asked.semantic().refined()).isTrue();
      assertThat(registry.get("gateway.classifier.second_opinions").tag("outcome", "asked")
          .counter().count()).isEqualTo(1);

      CountDownLatch release = hold(c.secondExecutor());
      // the second model's thread is busy: decided on the first scores, without waiting for it
      RequestFeatures skipped = chat("I smell gas in the kitchen");
      RouteDecision d = c.decide(p, skipped, "high-stakes", null).get(30, TimeUnit.SECONDS);
      assertThat(d.rule()).isEqualTo("close");
      assertThat(skipped.semantic().refined()).isFalse();
      assertThat(skipped.semantic().band()).isZero();
      assertThat(registry.get("gateway.classifier.second_opinions").tag("outcome", "skipped")
          .counter().count()).isEqualTo(1);
      assertThat(registry.find("gateway.classifier.fallbacks").counters()).isEmpty();
      release.countDown();

      // the first stage saturated (its only thread held, a request waiting for first scores): a
      // request whose first scores are in hand and close is decided on them, without a second look
      RequestFeatures scored = chat("I smell gas in the kitchen");
      scored.semantic(p.computeSemantic(scored));
      CountDownLatch first = hold(c.executor());
      CompletableFuture<RouteDecision> queued = c.decide(p, chat("name my goldfish"), "high-stakes", null);
      RouteDecision busy = c.decide(p, scored, "high-stakes", null).get(30, TimeUnit.SECONDS);
      assertThat(busy.rule()).isEqualTo("close");
      assertThat(scored.semantic().refined()).isFalse();
      assertThat(registry.get("gateway.classifier.second_opinions").tag("outcome", "skipped")
          .counter().count()).isEqualTo(2);
      first.countDown();
      assertThat(queued.get(30, TimeUnit.SECONDS)).isNotNull();

      // two threads: a second opinion takes a spare one's place. With one first score in progress
      // it is asked; with one first score and one second opinion in progress it is skipped, so no
      // more than two embeddings ever run at once
      c.configure(new ClassifierSettings(Duration.ofSeconds(30), Duration.ofSeconds(2), 10, 2, 0));
      CountDownLatch threads = hold(c.executor());
      CountDownLatch threads2 = hold(c.executor());
      CompletableFuture<RouteDecision> waiting = // one request waiting for first scores
          c.decide(p, chat("name my goldfish"), "high-stakes", null);
      RequestFeatures spare = chat("I smell gas in the kitchen");
      spare.semantic(p.computeSemantic(spare));
      assertThat(c.decide(p, spare, "high-stakes", null).get(30, TimeUnit.SECONDS).rule())
          .isEqualTo("close");
      assertThat(spare.semantic().refined()).isTrue();
      CountDownLatch oneSecond = hold(c.secondExecutor());
      RequestFeatures none = chat("I smell gas in the kitchen");
      none.semantic(p.computeSemantic(none));
      assertThat(c.decide(p, none, "high-stakes", null).get(30, TimeUnit.SECONDS).rule())
          .isEqualTo("close");
      assertThat(none.semantic().refined()).isFalse();
      assertThat(registry.get("gateway.classifier.second_opinions").tag("outcome", "skipped")
          .counter().count()).isEqualTo(3);
      threads.countDown();
      threads2.countDown();
      oneSecond.countDown();
      assertThat(waiting.get(30, TimeUnit.SECONDS)).isNotNull();
    }
  }
}
