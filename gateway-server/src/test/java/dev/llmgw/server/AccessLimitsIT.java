package dev.llmgw.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.config.Access;
import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.config.Price;
import dev.llmgw.core.config.RoutingLoader;
import dev.llmgw.core.config.Secrets;
import dev.llmgw.core.exchange.ExchangeEvents;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.testkit.TestConfigs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Per-key limits that hold under load: budgets reserved at admission (no overspend, no lost update
 * under 200 concurrent requests), requests- and tokens-per-minute with the OpenAI rate-limit headers,
 * and the soft-budget downgrade.
 */
class AccessLimitsIT {
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  static final String KEY = "sk-gw-test-budget-key";
  /** Completion 10 tokens at $1000 per million output tokens: every call costs exactly $0.01. */
  static final Price PRICE = new Price(0, 0, 1000);

  WireMockServer wm;
  GatewayServer gw;

  @BeforeEach
  void start() {
    wm = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort().containerThreads(100));
    wm.start();
    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json").withFixedDelay(20)
        .withBody("{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[],"
            + "\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":10,\"total_tokens\":10}}")));
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.stop(Duration.ofMillis(200));
    }
    wm.stop();
  }

  GatewayConfig config(Access.ApiKey key, Map<String, Access.Team> teams) {
    GatewayConfig base = TestConfigs.oneBackend("http://127.0.0.1:" + wm.port() + "/v1");
    Map<String, ModelAlias> models = new LinkedHashMap<>();
    base.models().forEach((k, m) -> models.put(k, new ModelAlias(m.alias(), m.backend(), m.backendModel(), m.ownedBy(),
        m.contextTokens(), m.fallbacks(), PRICE)));
    Map<String, BackendSpec> backends = base.backends();
    return new GatewayConfig(null, base.listener(), base.limits(), backends, models, base.failover(), base.economics(),
        new Access(false, null, false, Map.of(key.sha256(), key), teams, Access.ConnectionLimits.defaults()));
  }

  static Access.ApiKey key(int rpm, long tpm, Access.Budget budget, String team) {
    return new Access.ApiKey("budgeted", Secrets.sha256Hex(KEY), team, Set.of(), Set.of(), rpm, tpm, budget, false,
        false);
  }

  static HttpRequest chat(int port, int maxTokens) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
        .header("Authorization", "Bearer " + KEY)
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gw-model\",\"max_tokens\":" + maxTokens
            + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build();
  }

  @Test
  void twoHundredConcurrentRequestsCannotOverspendABudgetWorthTen() throws Exception {
    Access.Budget tenCalls = new Access.Budget(Access.Period.DAY, 0.10, Double.NaN, false);
    gw = new GatewayServer(config(key(0, 0, tenCalls, null), Map.of()), Transport.best(), 2).start();
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      all.add(HTTP.sendAsync(chat(gw.port(), 10), HttpResponse.BodyHandlers.ofString()));
    }
    int ok = 0;
    int quota = 0;
    for (CompletableFuture<HttpResponse<String>> f : all) {
      HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
      if (r.statusCode() == 200) {
        ok++;
      } else {
        assertThat(r.statusCode()).isEqualTo(429);
        assertThat(RequestParser.JSON.readTree(r.body()).at("/error/code").asText()).isEqualTo("insufficient_quota");
        quota++;
      }
    }
    // each call reserves its maximum ($0.01 here) before it starts: at most ten can ever be admitted
    assertThat(ok).isEqualTo(10);
    assertThat(quota).isEqualTo(190);
    assertThat(wm.getAllServeEvents()).hasSize(10);
    // no lost update: the settled spend is exactly ten calls
    assertThat(gw.accessControl().store().spentUsd("key:budgeted")).isCloseTo(0.10, within(1e-9));
  }

  @Test
  void requestsPerMinuteAnswer429WithRetryAfterAndRateLimitHeaders() throws Exception {
    gw = new GatewayServer(config(key(3, 0, null, null), Map.of()), Transport.best(), 1).start();
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> r = HTTP.send(chat(gw.port(), 5), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("x-ratelimit-limit-requests")).hasValue("3");
      assertThat(r.headers().firstValue("x-ratelimit-remaining-requests")).hasValue(Integer.toString(2 - i));
      assertThat(r.headers().firstValue("x-ratelimit-reset-requests")).isPresent();
    }
    HttpResponse<String> limited = HTTP.send(chat(gw.port(), 5), HttpResponse.BodyHandlers.ofString());
    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(RequestParser.JSON.readTree(limited.body()).at("/error/code").asText()).isEqualTo("rate_limit_exceeded");
    assertThat(Integer.parseInt(limited.headers().firstValue("retry-after").orElseThrow())).isBetween(1, 20);
    assertThat(limited.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("0");
    assertThat(wm.getAllServeEvents()).hasSize(3);
  }

  @Test
  void tokensPerMinuteAreEstimatedAtAdmissionAndReconciledAfter() throws Exception {
    gw = new GatewayServer(config(key(0, 1000, null, null), Map.of()), Transport.best(), 1).start();
    // estimate = prompt (~10) + max_tokens 600; the real use is 10 tokens, refunded after the call
    assertThat(HTTP.send(chat(gw.port(), 600), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    HttpResponse<String> second = HTTP.send(chat(gw.port(), 600), HttpResponse.BodyHandlers.ofString());
    assertThat(second.statusCode()).as("reconciled: the first call used 10 tokens, not 600").isEqualTo(200);
    long remaining = Long.parseLong(second.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow());
    assertThat(remaining).isLessThan(400);
    // ~980 tokens are left (1000 − 2 × 10 used); one estimated at 8 + 990 waits: 429 with the tokens figures
    HttpResponse<String> third = HTTP.send(chat(gw.port(), 990), HttpResponse.BodyHandlers.ofString());
    assertThat(third.statusCode()).isEqualTo(429);
    assertThat(third.headers().firstValue("x-ratelimit-limit-tokens")).hasValue("1000");
  }

  @Test
  void aSpentSoftBudgetDowngradesToTheCheapestTierByPrice() throws Exception {
    Access.Budget soft = new Access.Budget(Access.Period.MONTH, Double.NaN, 0.015, true);
    Access.Team team = new Access.Team("ops", new Access.Budget(Access.Period.MONTH, 100, Double.NaN, false));
    GatewayConfig priced = config(key(0, 0, soft, "ops"), Map.of("ops", team));
    // file order trivial, balanced, high-stakes, but by price balanced's model is the cheapest
    Map<String, ModelAlias> models = new LinkedHashMap<>(priced.models());
    models.put("backend-model", withPrice(models.get("backend-model"), new Price(0, 0, 500)));
    models.put("embed", withPrice(models.get("embed"), new Price(0, 0, 100)));
    GatewayConfig config = new GatewayConfig(null, priced.listener(), priced.limits(), priced.backends(), models,
        priced.failover(), priced.economics(), priced.access());
    var policy = RoutingLoader.parse(Path.of("routing.yaml"), """
        defaultTier: trivial
        tiers:
          trivial: { targets: [backend-model] }
          balanced: { targets: [embed] }
          high-stakes: { targets: [gw-model] }
        models: { defaultMode: route }
        rules:
          - name: marked
            tier: high-stakes
            when: { header: { name: x-stakes, equals: high } }
        """, config);
    gw = new GatewayServer(GatewaySnapshot.of(config, policy, 1), Transport.best(), 1, dev.llmgw.core.log.RequestLogListener.NOOP).start();
    HttpRequest highStakes = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
        .header("Authorization", "Bearer " + KEY).header("x-stakes", "high")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"auto\",\"max_tokens\":10,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build();
    for (int i = 0; i < 2; i++) { // $0.02 spent: over the $0.015 soft budget
      HttpResponse<String> r = HTTP.send(highStakes, HttpResponse.BodyHandlers.ofString());
      assertThat(r.headers().firstValue("x-gateway-tier")).hasValue("high-stakes");
      assertThat(r.headers().firstValue("x-gateway-downgraded")).isEmpty();
    }
    HttpResponse<String> after = HTTP.send(highStakes, HttpResponse.BodyHandlers.ofString());
    assertThat(after.statusCode()).isEqualTo(200);
    assertThat(after.headers().firstValue("x-gateway-tier")).hasValue("balanced");
    assertThat(after.headers().firstValue("x-gateway-downgraded")).hasValue("high-stakes->balanced");
    JsonNode last = RequestParser.JSON.readTree(wm.getAllServeEvents().get(0).getRequest().getBodyAsString());
    assertThat(last.get("model").asText()).isEqualTo("text-embedding"); // the balanced tier's target served it
  }

  static ModelAlias withPrice(ModelAlias m, Price p) {
    return new ModelAlias(m.alias(), m.backend(), m.backendModel(), m.ownedBy(), m.contextTokens(), m.fallbacks(), p);
  }
}
