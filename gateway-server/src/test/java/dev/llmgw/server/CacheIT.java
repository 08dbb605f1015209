package dev.llmgw.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.config.Access;
import dev.llmgw.core.config.CacheSettings;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.config.Price;
import dev.llmgw.core.config.Secrets;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.testkit.FakeBackend;
import dev.llmgw.testkit.TestConfigs;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The exact response cache end to end against a scripted backend: coalescing of 100 identical requests
 * into one backend call, the streamed replay, what is never stored (a cut stream, an answer over the
 * entry cap, a non-deterministic request), teams kept apart, the directives, and the money: a hit costs
 * nothing in the ledger and counts what it saved in /metrics.
 */
class CacheIT {
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .executor(java.util.concurrent.Executors.newFixedThreadPool(4)).build();
  /** $1 per million prompt tokens, $2 per million completion tokens. */
  static final Price PRICE = new Price(1, 0.5, 2);
  static final String KEY_A = "sk-gw-cache-team-a";
  static final String KEY_B = "sk-gw-cache-team-b";
  static final String KEY_LIMITED = "sk-gw-cache-limited";
  static final String CHAT = "{\"model\":\"gw-model\",\"temperature\":0,\"messages\":[{\"role\":\"user\","
      + "\"content\":\"What is 2+2?\"}]}";
  static final String ANSWER = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
      + "\"model\":\"backend-model\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"4\"},"
      + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,"
      + "\"total_tokens\":1500}}";
  static final String CHUNK = "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
      + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%s\"},\"finish_reason\":null}]}";
  static final String USAGE = "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
      + "\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"total_tokens\":1500}}";

  FakeBackend backend;
  GatewayServer gw;

  @BeforeEach
  void start() throws Exception {
    backend = new FakeBackend();
    backend.behave((ex, body) -> FakeBackend.json(ex, 200, ANSWER));
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.stop(Duration.ofMillis(200));
    }
    backend.close();
  }

  static CacheSettings settings(int maxEntryBytes) {
    return new CacheSettings(Set.of("gw-model"), Set.of(), Map.of(), Duration.ofMinutes(10), 8L << 20,
        maxEntryBytes, true, true);
  }

  GatewayServer gateway(CacheSettings cache) throws Exception {
    GatewayConfig base = TestConfigs.oneBackend(backend.baseUrl());
    Map<String, ModelAlias> models = new LinkedHashMap<>();
    base.models().forEach((k, m) -> models.put(k, new ModelAlias(m.alias(), m.backend(), m.backendModel(), m.ownedBy(),
        m.contextTokens(), m.fallbacks(), PRICE)));
    Map<String, Access.ApiKey> keys = Map.of(
        Secrets.sha256Hex(KEY_A), key("app-a", KEY_A, "team-a"),
        Secrets.sha256Hex(KEY_B), key("app-b", KEY_B, "team-b"),
        // 60 requests and 3,000 tokens a minute, $1 a day: one miss uses half the tokens
        Secrets.sha256Hex(KEY_LIMITED), new Access.ApiKey("limited", Secrets.sha256Hex(KEY_LIMITED), null, Set.of(),
            Set.of(), 60, 3000, new Access.Budget(Access.Period.DAY, 1.0, Double.NaN, false), false, false));
    Access access = new Access(true, null, false, keys, Map.of("team-a", new Access.Team("team-a", null),
        "team-b", new Access.Team("team-b", null)), Access.ConnectionLimits.defaults());
    GatewayConfig config = new GatewayConfig(null, base.listener(), base.limits(), base.backends(), models,
        base.failover(), base.economics(), access).withCache(cache);
    gw = new GatewayServer(config, Transport.best(), 2).start();
    return gw;
  }

  static Access.ApiKey key(String name, String key, String team) {
    return new Access.ApiKey(name, Secrets.sha256Hex(key), team, Set.of(), Set.of(), 0, 0, null, false, false);
  }

  HttpRequest request(String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return b.build();
  }

  HttpResponse<String> post(String body, String... headers) throws Exception {
    return HTTP.send(request(body, headers), HttpResponse.BodyHandlers.ofString());
  }

  String metrics() throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  static String cache(HttpResponse<?> r) {
    return r.headers().firstValue("x-gateway-cache").orElse(null);
  }

  @Test
  void aHundredConcurrentIdenticalRequestsMakeOneBackendCall() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    backend.behave((ex, body) -> {
      release.await(30, TimeUnit.SECONDS); // held until every other request waits for this one
      FakeBackend.json(ex, 200, ANSWER);
    });
    gateway(settings(1 << 20));
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      all.add(HTTP.sendAsync(request(CHAT), HttpResponse.BodyHandlers.ofString()));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> backend.bodies.size() == 1 && gw.cache().waiting() == 99);
    release.countDown();
    int hits = 0;
    int misses = 0;
    for (CompletableFuture<HttpResponse<String>> f : all) {
      HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo(ANSWER);
      assertThat(r.headers().firstValue("x-gateway-backend")).hasValue("mock");
      if ("hit".equals(cache(r))) {
        hits++;
      } else {
        assertThat(cache(r)).isEqualTo("miss");
        misses++;
      }
    }
    assertThat(backend.bodies).hasSize(1);
    assertThat(hits).isEqualTo(99);
    assertThat(misses).isEqualTo(1);
    String m = metrics();
    assertThat(m).contains("gateway_cache_requests_total{backend=\"mock\",model=\"gw-model\",outcome=\"hit\","
        + "tier=\"-\"} 99.0");
    assertThat(m).contains("gateway_cache_requests_total{backend=\"mock\",model=\"gw-model\",outcome=\"miss\","
        + "tier=\"-\"} 1.0");
  }

  @Test
  void aHitCostsNothingInTheLedgerAndCountsTheMoneyItSaved() throws Exception {
    gateway(settings(1 << 20));
    HttpResponse<String> first = post(CHAT, "x-workflow-id", "wf-cache");
    HttpResponse<String> second = post(CHAT, "x-workflow-id", "wf-cache");
    assertThat(cache(first)).isEqualTo("miss");
    assertThat(cache(second)).isEqualTo("hit");
    assertThat(second.headers().firstValue("x-gateway-attempts")).hasValue("0");
    assertThat(second.headers().firstValue("content-length")).hasValue(Integer.toString(ANSWER.length()));
    assertThat(second.body()).isEqualTo(first.body());
    assertThat(backend.bodies).hasSize(1);
    double oneCall = (1000 * 1 + 500 * 2) / 1e6;
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      JsonNode wf = RequestParser.JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + gw.port() + "/v1/workflows/wf-cache")).build(), HttpResponse.BodyHandlers.ofString()).body());
      assertThat(wf.get("calls").asInt()).isEqualTo(2);
      assertThat(wf.get("cost").asDouble()).as("the hit cost nothing").isCloseTo(oneCall, within(1e-12));
      assertThat(wf.get("promptTokens").asLong()).as("a hit counts no tokens").isEqualTo(1000);
    });
    // the economics report's per-key figures (anonymous: no key) count the hit and what it saved
    var report = dev.llmgw.core.economics.EconomicsReport.of(java.util.List.of(),
        gw.economics().usageSince(java.time.LocalDate.now(java.time.ZoneOffset.UTC)), gw.snapshot().config().economics(),
        0, System.currentTimeMillis());
    assertThat(report.byKey()).singleElement().satisfies(c -> {
      assertThat(c.requests()).isEqualTo(2);
      assertThat(c.cost()).isCloseTo(oneCall, within(1e-12));
      assertThat(c.cacheHits()).isEqualTo(1);
      assertThat(c.cacheSaved()).isCloseTo(oneCall, within(1e-12));
    });
    String m = metrics();
    assertThat(m).contains("gateway_cache_saved_usd_total{backend=\"mock\",model=\"gw-model\",tier=\"-\"} "
        + oneCall);
    assertThat(m).contains("gateway_cache_entries 1.0");
  }

  @Test
  void aStreamIsReplayedWithTheSameEvents() throws Exception {
    backend.behave((ex, body) -> {
      OutputStream out = FakeBackend.startSse(ex);
      for (String t : new String[] {"Two", " plus", " two", " is", " four."}) {
        FakeBackend.event(out, CHUNK.formatted(t));
      }
      FakeBackend.event(out, USAGE);
      FakeBackend.event(out, "[DONE]");
    });
    gateway(settings(1 << 20));
    String stream = CHAT.replace("\"temperature\":0", "\"temperature\":0,\"stream\":true");
    HttpResponse<String> first = post(stream);
    HttpResponse<String> second = post(stream);
    assertThat(cache(first)).isEqualTo("miss");
    assertThat(cache(second)).isEqualTo("hit");
    assertThat(second.headers().firstValue("content-type")).hasValueSatisfying(
        ct -> assertThat(ct).startsWith("text/event-stream"));
    assertThat(second.body()).isEqualTo(first.body()).endsWith("data: [DONE]\n\n")
        .doesNotContain("\"usage\""); // the client did not ask for the usage chunk: not in the original either
    assertThat(events(second.body())).isEqualTo(events(first.body())).hasSize(6);
    // asking for usage is another shape of answer: its own entry
    HttpResponse<String> withUsage = post(stream.replace("\"stream\":true",
        "\"stream\":true,\"stream_options\":{\"include_usage\":true}"));
    assertThat(cache(withUsage)).isEqualTo("miss");
    assertThat(withUsage.body()).contains("\"usage\"");
    assertThat(backend.bodies).hasSize(2);
  }

  static List<String> events(String sse) {
    List<String> out = new ArrayList<>();
    for (String e : sse.split("\n\n")) {
      if (!e.isBlank()) {
        out.add(e);
      }
    }
    return out;
  }

  @Test
  void aCutStreamIsNeverStored() throws Exception {
    backend.behave((ex, body) -> {
      OutputStream out = FakeBackend.startSse(ex);
      FakeBackend.event(out, CHUNK.formatted("Two"));
      FakeBackend.event(out, CHUNK.formatted(" plus"));
      out.close(); // no [DONE]: the stream is cut
    });
    gateway(settings(1 << 20));
    String stream = CHAT.replace("\"temperature\":0", "\"temperature\":0,\"stream\":true");
    HttpResponse<String> first = post(stream);
    assertThat(first.body()).contains("\"error\"").doesNotContain("data: [DONE]");
    HttpResponse<String> second = post(stream);
    assertThat(cache(second)).isEqualTo("miss");
    assertThat(backend.bodies).hasSize(2);
    assertThat(gw.cache().entries()).isZero();
  }

  @Test
  void anAnswerOverTheEntryCapIsRelayedButNotStored() throws Exception {
    gateway(settings(ANSWER.length() - 1));
    assertThat(post(CHAT).body()).isEqualTo(ANSWER);
    HttpResponse<String> second = post(CHAT);
    assertThat(cache(second)).isEqualTo("miss");
    assertThat(second.body()).isEqualTo(ANSWER);
    assertThat(backend.bodies).hasSize(2);
  }

  @Test
  void anEntryNeverCrossesTeams() throws Exception {
    gateway(settings(1 << 20));
    assertThat(cache(post(CHAT, "Authorization", "Bearer " + KEY_A))).isEqualTo("miss");
    assertThat(cache(post(CHAT, "Authorization", "Bearer " + KEY_B))).isEqualTo("miss");
    assertThat(cache(post(CHAT))).as("no key: its own scope").isEqualTo("miss");
    assertThat(cache(post(CHAT, "Authorization", "Bearer " + KEY_A))).isEqualTo("hit");
    assertThat(cache(post(CHAT, "Authorization", "Bearer " + KEY_B))).isEqualTo("hit");
    assertThat(backend.bodies).hasSize(3);
  }

  @Test
  void aNonDeterministicRequestOrAnotherTemperatureIsNotServedFromTheCache() throws Exception {
    gateway(settings(1 << 20));
    post(CHAT);
    String warm = CHAT.replace("\"temperature\":0", "\"temperature\":0.7");
    assertThat(cache(post(warm))).isEqualTo("uncacheable");
    assertThat(cache(post(warm))).isEqualTo("uncacheable");
    String seeded = CHAT.replace("\"temperature\":0", "\"temperature\":0.7,\"seed\":7");
    assertThat(cache(post(seeded))).isEqualTo("miss");
    assertThat(cache(post(seeded))).isEqualTo("hit");
    assertThat(backend.bodies).hasSize(4);
  }

  @Test
  void directivesBypassRefreshAndUnknown() throws Exception {
    gateway(settings(1 << 20));
    assertThat(cache(post(CHAT, "x-gateway-cache", "bypass"))).isEqualTo("bypass");
    assertThat(cache(post(CHAT))).as("bypass stored nothing").isEqualTo("miss");
    assertThat(cache(post(CHAT, "x-gateway-cache", "refresh"))).isEqualTo("refresh");
    String viaMetadata = CHAT.replace("\"temperature\":0", "\"temperature\":0,\"metadata\":{\"gateway_cache\":"
        + "\"bypass\"}");
    assertThat(cache(post(viaMetadata))).isEqualTo("bypass");
    assertThat(cache(post(CHAT))).isEqualTo("hit");
    assertThat(backend.bodies).hasSize(4);
    HttpResponse<String> bad = post(CHAT, "x-gateway-cache", "sometimes");
    assertThat(bad.statusCode()).isEqualTo(400);
    JsonNode error = RequestParser.JSON.readTree(bad.body()).get("error");
    assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
    assertThat(error.get("param").asText()).isEqualTo("x-gateway-cache");
    assertThat(error.has("code")).isTrue();
    assertThat(error.get("message").asText()).contains("use, refresh or bypass");
    assertThat(backend.bodies).hasSize(4);
  }

  @Test
  void aModelThatIsNotCachedCarriesNoCacheHeader() throws Exception {
    gateway(settings(1 << 20));
    HttpResponse<String> r = post(CHAT.replace("gw-model", "backend-model"));
    assertThat(cache(r)).isNull();
    post(CHAT.replace("gw-model", "backend-model"));
    assertThat(backend.bodies).hasSize(2);
  }

  @Test
  void aCachedTierIsCachedAndAnotherTierIsNot(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Files.writeString(dir.resolve("gateway.yaml"), """
        listener: { host: 127.0.0.1, port: 0 }
        backends:
          fake: { baseUrl: %s, models: [small, large] }
        models:
          small: { backend: fake, price: { input: 1, output: 2 } }
          large: { backend: fake, price: { input: 10, output: 20 } }
        state: { store: memory }
        auth: { open: true }
        cache: { tiers: [trivial] }
        """.formatted(backend.baseUrl()));
    java.nio.file.Files.writeString(dir.resolve("routing.yaml"), """
        defaultTier: trivial
        tiers:
          trivial: { targets: [small] }
          high-stakes: { targets: [large] }
        rules:
          - name: legal
            tier: high-stakes
            when:
              lastUserMessage: { keywords: [contract] }
        """);
    gw = new GatewayServer(dev.llmgw.core.SnapshotLoader.load(dir, Map.of(), 1), Transport.best(), 1,
        dev.llmgw.core.log.RequestLogListener.NOOP).start();
    String trivial = CHAT.replace("gw-model", "auto");
    assertThat(cache(post(trivial))).isEqualTo("miss");
    HttpResponse<String> hit = post(trivial);
    assertThat(cache(hit)).isEqualTo("hit");
    assertThat(hit.headers().firstValue("x-gateway-tier")).hasValue("trivial");
    assertThat(hit.headers().firstValue("x-gateway-rule")).hasValue("default");
    String legal = trivial.replace("What is 2+2?", "Is this contract fine?");
    HttpResponse<String> stakes = post(legal);
    assertThat(stakes.headers().firstValue("x-gateway-tier")).hasValue("high-stakes");
    assertThat(cache(stakes)).as("not a cached tier").isNull();
    assertThat(cache(post(legal))).isNull();
    assertThat(backend.bodies).hasSize(3);
    assertThat(metrics()).contains("gateway_cache_requests_total{backend=\"fake\",model=\"small\",outcome=\"hit\","
        + "tier=\"trivial\"} 1.0");
  }

  @Test
  void aHitCountsARequestButNoTokensAndNoMoney() throws Exception {
    gateway(settings(1 << 20));
    String bounded = CHAT.replace("\"temperature\":0", "\"temperature\":0,\"max_tokens\":10");
    HttpResponse<String> miss = post(bounded, "Authorization", "Bearer " + KEY_LIMITED);
    assertThat(cache(miss)).isEqualTo("miss");
    long before = Long.parseLong(miss.headers().firstValue("x-ratelimit-remaining-requests").orElseThrow());
    long last = before;
    // each hit is admitted (one request off the minute's 60) and gives its token estimate back: were a hit
    // charged the 1,500 tokens of the answer, the second would be refused (3,000 a minute)
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> hit = post(bounded, "Authorization", "Bearer " + KEY_LIMITED);
      assertThat(hit.statusCode()).as(hit.body()).isEqualTo(200);
      assertThat(cache(hit)).isEqualTo("hit");
      long remaining = Long.parseLong(hit.headers().firstValue("x-ratelimit-remaining-requests").orElseThrow());
      assertThat(remaining).isLessThan(last);
      last = remaining;
    }
    assertThat(before - last).isGreaterThanOrEqualTo(4); // a refill of at most one in a second
    assertThat(gw.state().spentUsd("key:limited")).as("only the miss spent money")
        .isCloseTo((1000 * 1 + 500 * 2) / 1e6, within(1e-9));
    assertThat(backend.bodies).hasSize(1);
  }
}
