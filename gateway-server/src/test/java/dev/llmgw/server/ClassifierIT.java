package dev.llmgw.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.SnapshotLoader;
import dev.llmgw.core.exchange.ExchangeEvents;
import dev.llmgw.core.upstream.Transport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The classifier stage through the running gateway: semantic and judge decisions in headers and
 * metrics; a classifier that is slow delays no other connection (one event loop); a late or failed
 * signal gives the safe tier; a broken example file is refused on reload while the last good policy
 * keeps serving.
 */
class ClassifierIT {
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  static final String ADMIN_TOKEN = "classifier-it-admin";

  @TempDir
  Path dir;
  WireMockServer backend;
  WireMockServer judge;
  GatewayServer gw;
  /** Debounce of the file watch; 0: no watch (reloads only through the admin endpoint). */
  long watchDebounceMillis;
  /** The judge's cacheSize in routing.yaml. */
  int judgeCacheSize = 10_000;
  /** YAML lines added to classifier.semantic (e.g. a second opinion), indented for it. */
  String semanticExtra = "";

  void start(String semanticTimeout, String judgeAnswer, int judgeStatus) throws Exception {
    backend = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    judge = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    backend.start();
    judge.start();
    backend.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json")
        .withBody("{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[],"
            + "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}")));
    judge.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(judgeStatus)
        .withHeader("Content-Type", "application/json")
        .withBody("{\"id\":\"j\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"judge\",\"choices\":"
            + "[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + judgeAnswer + "\"},"
            + "\"finish_reason\":\"stop\"}]}")));
    Files.writeString(dir.resolve("gateway.yaml"), """
        listener: { host: 127.0.0.1, port: 0 }
        backends:
          cheap: { baseUrl: http://127.0.0.1:%d/v1, models: [small, large] }
          judging: { baseUrl: http://127.0.0.1:%d/v1, models: [judge-model] }
        models:
          small: { backend: cheap, price: { input: 0.1, output: 0.2 } }
          large: { backend: cheap, price: { input: 5, output: 15 } }
          judge: { backend: judging, model: judge-model, price: { input: 0.1, output: 0.2 } }
        auth: { open: true, adminTokenSha256: %s }
        """.formatted(backend.port(), judge.port(), dev.llmgw.core.config.Secrets.sha256Hex(ADMIN_TOKEN)));
    Files.createDirectories(dir.resolve("examples"));
    Files.writeString(dir.resolve("examples/tiers.jsonl"), """
        {"tier": "high-stakes", "text": "My toddler swallowed a button battery, what do I do?"}
        {"tier": "high-stakes", "text": "There is a strong smell of gas in the kitchen"}
        {"tier": "trivial", "text": "Suggest a name for my goldfish"}
        {"tier": "trivial", "text": "What is the capital of France?"}
        """ + (semanticExtra.isEmpty() ? "" : """
        {"tier": "high-stakes", "text": "Wire the payroll money to this new account today"}
        """));
    Files.writeString(dir.resolve("routing.yaml"), """
        defaultTier: trivial
        tiers:
          trivial: { targets: [small] }
          high-stakes: { targets: [large] }
        classifier:
          semantic:
            examples: [examples/tiers.jsonl]
            k: 1
            timeout: %s
        %s
          judge: { model: judge, timeout: 2s, cacheSize: %d }
          threads: 1
        rules:
          - name: marked
            tier: high-stakes
            when: { header: { name: x-stakes, equals: high } }
          - name: judged
            tier: high-stakes
            when:
              all:
                - lastUserMessage: { keywords: [refund] }
                - judge: high-stakes
          - name: semantic-high-stakes
            tier: high-stakes
            when: { semantic: { tier: high-stakes, minScore: 0.5, margin: 0.05 } }
        """.formatted(semanticTimeout, semanticExtra, judgeCacheSize));
    GatewaySnapshot s = SnapshotLoader.load(dir, Map.of(), 1);
    gw = new GatewayServer(s, Transport.best(), 1, dev.llmgw.core.log.RequestLogListener.NOOP).reloadFrom(dir, Map::of, watchDebounceMillis).start();
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.stop(Duration.ofMillis(200));
    }
    for (WireMockServer w : new WireMockServer[] {backend, judge}) {
      if (w != null) {
        w.stop();
      }
    }
  }

  CompletableFuture<HttpResponse<String>> chat(String content, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\""
            + content + "\"}]}"));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    // each request on its own connection: a fresh client per call
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
        .sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  String metrics() throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  /** Occupies the classifier's only thread until the returned latch is counted down (a slow classifier). */
  CountDownLatch holdTheClassifierThread() throws InterruptedException {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch held = new CountDownLatch(1);
    gw.classifier().executor().execute(() -> {
      held.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
    return release;
  }

  static String rule(HttpResponse<String> r) {
    return r.headers().firstValue("x-gateway-rule").orElse("?");
  }

  @Test
  void theSemanticSignalDecidesAndIsCountedBySignal() throws Exception {
    start("2s", "trivial", 200);
    HttpResponse<String> r = chat("my two year old put a button battery in his mouth").get(10, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-gateway-tier")).hasValue("high-stakes");
    assertThat(rule(r)).isEqualTo("semantic-high-stakes");
    HttpResponse<String> plain = chat("what is the capital of Italy?").get(10, TimeUnit.SECONDS);
    assertThat(plain.headers().firstValue("x-gateway-tier")).hasValue("trivial");
    assertThat(rule(plain)).isEqualTo("default");
    String m = metrics();
    assertThat(m).contains("gateway_route_decisions_total{rule=\"semantic-high-stakes\",signal=\"semantic\","
        + "tier=\"high-stakes\"} 1.0");
    assertThat(m).contains("gateway_route_decisions_total{rule=\"default\",signal=\"default\",tier=\"trivial\"} 1.0");
    assertThat(m).contains("gateway_classifier_duration_seconds_count{signal=\"semantic\"} 1");
  }

  @Test
  void aSecondOpinionIsAskedCountedAndExplained() throws Exception {
    // band 1: every request's scores are "close", so each asks the second model (bge-small)
    semanticExtra = "    secondOpinion: { model: bge-small-en-v15-q, band: 1 }";
    start("5s", "trivial", 200);
    HttpResponse<String> r = chat("my two year old put a button battery in his mouth").get(30, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-gateway-tier")).hasValue("high-stakes");
    assertThat(rule(r)).isEqualTo("semantic-high-stakes");
    assertThat(metrics()).contains("gateway_classifier_second_opinions_total{outcome=\"asked\"} 1.0");
    HttpResponse<String> explained = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + gw.port() + "/admin/explain"))
        .header("Authorization", "Bearer " + ADMIN_TOKEN)
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"auto\",\"messages\":[{\"role\":"
            + "\"user\",\"content\":\"my two year old put a button battery in his mouth\"}]}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(explained.statusCode()).isEqualTo(200);
    assertThat(explained.body()).contains("semantic-high-stakes",
        "mean of the first and the second model's scores");
  }

  @Test
  void aSlowClassifierDelaysNoOtherConnection() throws Exception {
    start("30s", "trivial", 200);
    CountDownLatch release = holdTheClassifierThread();
    // waits for the (held) classifier thread
    CompletableFuture<HttpResponse<String>> waiting = chat("there is a strong smell of gas in my kitchen");
    await().atMost(Duration.ofSeconds(5)).until(() -> gw.classifier().pending() == 1);
    // the only event loop is free: other connections are served, rules-only and local endpoints alike
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> other = chat("anything at all", "x-stakes", "high").get(5, TimeUnit.SECONDS);
      assertThat(rule(other)).isEqualTo("marked");
      assertThat(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/healthz")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }
    assertThat(waiting).isNotDone();
    release.countDown();
    HttpResponse<String> r = waiting.get(10, TimeUnit.SECONDS);
    assertThat(rule(r)).isEqualTo("semantic-high-stakes");
  }

  @Test
  void aLateSemanticSignalGivesTheSafeTier() throws Exception {
    start("200ms", "trivial", 200);
    CountDownLatch release = holdTheClassifierThread();
    try {
      HttpResponse<String> r = chat("what is the capital of Spain?").get(10, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(rule(r)).isEqualTo("classifier-fallback");
      assertThat(r.headers().firstValue("x-gateway-tier")).hasValue("high-stakes"); // the highest tier
      assertThat(metrics()).contains("gateway_classifier_fallbacks_total{reason=\"timeout\",signal=\"semantic\"} 1.0");
    } finally {
      release.countDown();
    }
  }

  @Test
  void theJudgeDecidesWhatARuleSendsItAndItsVerdictIsCached() throws Exception {
    start("2s", "high-stakes", 200);
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> r = chat("I want a refund for the order").get(10, TimeUnit.SECONDS);
      assertThat(rule(r)).isEqualTo("judged");
      assertThat(r.headers().firstValue("x-gateway-tier")).hasValue("high-stakes");
    }
    judge.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions"))
        .withRequestBody(containing("I want a refund for the order"))
        .withRequestBody(containing("\"model\":\"judge-model\"")));
    assertThat(chat("hello there").get(10, TimeUnit.SECONDS).headers().firstValue("x-gateway-rule"))
        .hasValue("default");
    judge.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions"))); // not asked for a rule it is not behind
    assertThat(metrics()).contains("gateway_route_decisions_total{rule=\"judged\",signal=\"judge\",tier=\"high-stakes\"} 3.0");
  }

  @Test
  void aFailingJudgeGivesTheSafeTier() throws Exception {
    start("2s", "oops", 500);
    HttpResponse<String> r = chat("I want a refund for the order").get(10, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(rule(r)).isEqualTo("classifier-fallback");
    assertThat(metrics()).contains("gateway_classifier_fallbacks_total{reason=\"error\",signal=\"judge\"} 1.0");
  }

  @Test
  void aBrokenExampleFileIsRefusedWithFileAndLineAndTheLastGoodPolicyServes() throws Exception {
    start("2s", "trivial", 200);
    Files.writeString(dir.resolve("examples/tiers.jsonl"), """
        {"tier": "high-stakes", "text": "My toddler swallowed a button battery, what do I do?"}
        {"tier": "urgent", "text": "There is a strong smell of gas in the kitchen"}
        {"tier": "trivial", "text": broken
        """);
    HttpResponse<String> reload = HTTP.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + gw.port() + "/admin/reload"))
        .header("Authorization", "Bearer " + ADMIN_TOKEN).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(reload.body()).contains("tiers.jsonl:2: tier: 'urgent' is not a configured tier")
        .contains("tiers.jsonl:3: not a JSON object");
    HttpResponse<String> r = chat("there is a strong smell of gas in my kitchen").get(10, TimeUnit.SECONDS);
    assertThat(rule(r)).isEqualTo("semantic-high-stakes");
    List<String> problems = List.of(reload.body());
    assertThat(problems).isNotEmpty();
  }

  @Test
  void anEditedExampleFileIsPickedUpWithoutARestart() throws Exception {
    watchDebounceMillis = 100;
    start("2s", "trivial", 200);
    assertThat(rule(chat("which river flows through Vienna?").get(10, TimeUnit.SECONDS))).isEqualTo("default");
    Files.writeString(dir.resolve("examples/tiers.jsonl"),
        "{\"tier\": \"high-stakes\", \"text\": \"Which river flows through Vienna?\"}\n", java.nio.file.StandardOpenOption.APPEND);
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).until(() ->
        rule(chat("which river flows through Vienna?").get(10, TimeUnit.SECONDS)).equals("semantic-high-stakes"));
  }

  @Test
  void withoutACacheTheJudgeIsAskedEveryTime() throws Exception {
    judgeCacheSize = 0;
    start("2s", "high-stakes", 200);
    for (int i = 0; i < 3; i++) {
      assertThat(rule(chat("I want a refund for the order").get(10, TimeUnit.SECONDS))).isEqualTo("judged");
    }
    judge.verify(3, postRequestedFor(urlEqualTo("/v1/chat/completions")));
  }
}
