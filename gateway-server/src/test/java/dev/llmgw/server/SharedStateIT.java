package dev.llmgw.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.llmgw.core.config.Access;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.Limits;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.config.Price;
import dev.llmgw.core.config.Secrets;
import dev.llmgw.core.config.StateSettings;
import dev.llmgw.core.config.Timeouts;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.testkit.RedisServer;
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
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Money and limits that hold across replicas and restarts, measured from outside: gateways started
 * in-process, each with its own store, against WireMock backends and a real Redis on 127.0.0.1. The
 * figures these tests print are the closing note's.
 */
class SharedStateIT {
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  static final String KEY = "sk-gw-shared-state-key";
  @RegisterExtension
  static final RedisServer redis = RedisServer.perClass();

  WireMockServer wm;
  final List<GatewayServer> gateways = new ArrayList<>();
  @TempDir
  Path dir;

  @BeforeEach
  void start() {
    wm = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort().containerThreads(120));
    wm.start();
    usage(10);
  }

  void usage(int completionTokens) {
    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json").withFixedDelay(20)
        .withBody("{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[],"
            + "\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":" + completionTokens + ",\"total_tokens\":"
            + completionTokens + "}}")));
  }

  @AfterEach
  void stop() {
    gateways.forEach(g -> g.stop(Duration.ofMillis(200)));
    wm.stop();
  }

  GatewayServer gateway(GatewayConfig config) throws InterruptedException {
    GatewayServer g = new GatewayServer(config, Transport.best(), 2).start();
    gateways.add(g);
    return g;
  }

  /**
   * A Redis store with a 2 s command timeout: this test's own load (hundreds of requests and WireMock
   * on two cores) can hold an answer past the shipped 250 ms, and a timed-out admission falls back to
   * local limits, which these tests are not about.
   */
  StateSettings redisState(String prefix, boolean failOpen) {
    return new StateSettings(StateSettings.Store.REDIS, null, StateSettings.DEFAULT_FLUSH, redis.url(), prefix,
        Duration.ofSeconds(2), failOpen);
  }

  StateSettings embedded(String name) {
    return new StateSettings(StateSettings.Store.EMBEDDED, dir.resolve(name), Duration.ofMillis(20), null, "x:",
        Duration.ofMillis(250), true);
  }

  GatewayConfig config(Access.ApiKey key, Map<String, Access.Team> teams, Price price, Timeouts timeouts,
      StateSettings state) {
    GatewayConfig base = TestConfigs.oneBackend("http://127.0.0.1:" + wm.port() + "/v1", timeouts, Limits.defaults());
    Map<String, ModelAlias> models = new LinkedHashMap<>();
    base.models().forEach((k, m) -> models.put(k, new ModelAlias(m.alias(), m.backend(), m.backendModel(), m.ownedBy(),
        m.contextTokens(), m.fallbacks(), price)));
    return new GatewayConfig(null, base.listener(), base.limits(), base.backends(), models, base.failover(),
        base.economics(), new Access(false, null, false, Map.of(key.sha256(), key), teams,
        Access.ConnectionLimits.defaults()), state);
  }

  GatewayConfig config(Access.ApiKey key, Map<String, Access.Team> teams, StateSettings state) {
    // 10 completion tokens at $1000 per million: every call costs exactly $0.01
    return config(key, teams, new Price(0, 0, 1000), TestConfigs.fastTimeouts(), state);
  }

  static Access.ApiKey key(int rpm, Access.Budget budget, String team) {
    return new Access.ApiKey("app", Secrets.sha256Hex(KEY), team, Set.of(), Set.of(), rpm, 0, budget, false, false);
  }

  static HttpRequest chat(int port, String extra) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
        .header("Authorization", "Bearer " + KEY).header("x-workflow-id", "wf-1").timeout(Duration.ofSeconds(20))
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gw-model\"" + extra
            + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build();
  }

  /** Sends {@code n} requests at once, alternating over the gateways; counts answers by status. */
  static Map<Integer, Integer> burst(int n, String extra, GatewayServer... over) throws Exception {
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(HTTP.sendAsync(chat(over[i % over.length].port(), extra), HttpResponse.BodyHandlers.ofString()));
    }
    Map<Integer, Integer> byStatus = new java.util.TreeMap<>();
    for (CompletableFuture<HttpResponse<String>> f : all) {
      byStatus.merge(f.get(30, TimeUnit.SECONDS).statusCode(), 1, Integer::sum);
    }
    return byStatus;
  }

  @Test
  void twoGatewaysOnOneRedisServeExactlyWhatATeamBudgetWorthTenAllows() throws Exception {
    Access.Team team = new Access.Team("support", new Access.Budget(Access.Period.DAY, 0.10, Double.NaN, false));
    String prefix = "budget-" + System.nanoTime() + ":";
    GatewayConfig c = config(key(0, null, "support"), Map.of("support", team), redisState(prefix, true));
    GatewayServer a = gateway(c);
    GatewayServer b = gateway(c);
    Map<Integer, Integer> answers = burst(200, ",\"max_tokens\":10", a, b);
    System.out.println("[shared-state] two gateways, one Redis, team budget $0.10, 200 concurrent: " + answers);
    assertThat(answers).containsEntry(200, 10).containsEntry(429, 190);
    assertThat(wm.getAllServeEvents()).hasSize(10);
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(a.state().spentUsd("team:support")).isCloseTo(0.10, within(1e-9)));
    assertThat(b.state().spentUsd("team:support")).isCloseTo(0.10, within(1e-9));
  }

  @Test
  void aRequestsPerMinuteLimitOfSixtyHoldsAcrossTwoGateways() throws Exception {
    String prefix = "rpm-" + System.nanoTime() + ":";
    GatewayConfig c = config(key(60, null, null), Map.of(), redisState(prefix, true));
    GatewayServer a = gateway(c);
    GatewayServer b = gateway(c);
    long t0 = System.nanoTime();
    Map<Integer, Integer> answers = burst(150, ",\"max_tokens\":10", a, b);
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf("[shared-state] RPM 60 over two gateways, 150 requests in %.2f s: %s (%s)%n", seconds, answers,
        a.state().health());
    // the window refills one request per second: 60 plus what refilled while the burst ran
    assertThat(answers.get(200)).isBetween(60, 60 + (int) Math.ceil(seconds));
    assertThat(answers.get(200) + answers.getOrDefault(429, 0)).isEqualTo(150);
  }

  @Test
  void spendAndTheLedgerSurviveARestartOfTheEmbeddedStoreAndOfRedisBackedGateways() throws Exception {
    Access.Budget budget = new Access.Budget(Access.Period.DAY, 0.05, Double.NaN, false);
    for (StateSettings state : List.of(embedded("restart.mv"), redisState("restart-" + System.nanoTime() + ":",
        true))) {
      GatewayConfig c = config(key(0, budget, null), Map.of(), state);
      GatewayServer first = gateway(c);
      assertThat(burst(3, ",\"max_tokens\":10", first)).containsEntry(200, 3);
      HttpResponse<String> outcome = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + first.port()
          + "/v1/workflows/wf-1/outcome")).header("Authorization", "Bearer " + KEY)
          .POST(HttpRequest.BodyPublishers.ofString("{\"outcome\":\"repaired\",\"repair_minutes\":4}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(outcome.statusCode()).as(outcome.body()).isEqualTo(200);
      first.stop(Duration.ofSeconds(2));
      gateways.remove(first);

      GatewayServer second = gateway(c);
      assertThat(second.state().spentUsd("key:app")).as(state.store() + ": spend after the restart")
          .isCloseTo(0.03, within(1e-9));
      HttpResponse<String> wf = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + second.port()
          + "/v1/workflows/wf-1")).header("Authorization", "Bearer " + KEY).build(),
          HttpResponse.BodyHandlers.ofString());
      JsonNode w = RequestParser.JSON.readTree(wf.body());
      System.out.println("[shared-state] " + state.store() + " after restart: spent $"
          + second.state().spentUsd("key:app") + ", workflow " + wf.body());
      assertThat(w.path("calls").asInt()).isEqualTo(3);
      assertThat(w.path("outcome").asText()).isEqualToIgnoringCase("repaired");
      assertThat(w.path("repairMinutes").asDouble()).isEqualTo(4.0);
      // $0.02 of the $0.05 is left: two more calls, then the budget is spent
      assertThat(burst(3, ",\"max_tokens\":10", second)).containsEntry(200, 2).containsEntry(429, 1);
      second.stop(Duration.ofSeconds(2));
      gateways.remove(second);
    }
  }

  @Test
  void redisKilledUnderLoadNeverHangsARequestAppliesThePolicyAndRecoversByItself() throws Exception {
    RedisServer own = RedisServer.start();
    try {
      StateSettings open = new StateSettings(StateSettings.Store.REDIS, null, StateSettings.DEFAULT_FLUSH, own.url(),
          "kill:", Duration.ofMillis(200), true);
      StateSettings closed = new StateSettings(StateSettings.Store.REDIS, null, StateSettings.DEFAULT_FLUSH,
          own.url(), "kill:", Duration.ofMillis(200), false);
      Access.Budget budget = new Access.Budget(Access.Period.DAY, 100.0, Double.NaN, false);
      GatewayServer failOpen = gateway(config(key(0, budget, null), Map.of(), open));
      GatewayServer failClosed = gateway(config(key(0, budget, null), Map.of(), closed));
      assertThat(burst(20, ",\"max_tokens\":10", failOpen, failClosed)).containsOnlyKeys(200);
      CompletableFuture<Map<Integer, Integer>> during = CompletableFuture.supplyAsync(() -> {
        try {
          Map<Integer, Integer> all = new java.util.TreeMap<>();
          for (int i = 0; i < 10; i++) {
            burst(20, ",\"max_tokens\":10", failOpen).forEach((k, v) -> all.merge(k, v, Integer::sum));
          }
          return all;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      own.kill();
      Map<Integer, Integer> openAnswers = during.get(60, TimeUnit.SECONDS); // a hung request fails the get
      // both notice within a health check (a gateway admits from capacity it already leased until then)
      await().atMost(Duration.ofSeconds(5)).until(() -> !failOpen.state().health().up()
          && !failClosed.state().health().up());
      Map<Integer, Integer> closedAnswers = burst(20, ",\"max_tokens\":10", failClosed);
      HttpResponse<String> refused = HTTP.send(chat(failClosed.port(), ""), HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> notReady = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + failClosed.port() + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
      System.out.println("[shared-state] Redis killed: failOpen answered " + openAnswers + ", failClosed "
          + closedAnswers + "; failClosed /readyz " + notReady.statusCode() + " " + notReady.body());
      assertThat(openAnswers).containsOnlyKeys(200);
      String scrape = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + failOpen.port() + "/metrics"))
          .build(), HttpResponse.BodyHandlers.ofString()).body();
      assertThat(scrape).as("the names ops/ reads").contains("gateway_state_up{store=\"redis\"} 0.0")
          .contains("gateway_state_local_admissions_total ").contains("gateway_state_replay_pending ")
          .contains("gateway_state_refused_total ");
      assertThat(closedAnswers).containsOnlyKeys(503);
      assertThat(RequestParser.JSON.readTree(refused.body()).at("/error/code").asText()).isEqualTo("state_unavailable");
      assertThat(notReady.statusCode()).isEqualTo(503);
      own.restart();
      await().atMost(Duration.ofSeconds(10)).until(() -> failClosed.state().health().up()
          && failOpen.state().health().up());
      assertThat(burst(20, ",\"max_tokens\":10", failOpen, failClosed)).containsOnlyKeys(200);
      assertThat(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + failClosed.port() + "/readyz"))
          .build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    } finally {
      own.close();
    }
  }

  @Test
  void aRequestThatFailsEverywhereCostsNothingAndATimedOutAttemptIsChargedItsEstimate() throws Exception {
    Access.Budget budget = new Access.Budget(Access.Period.DAY, 1.0, Double.NaN, false);
    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(500).withBody("{}")));
    GatewayConfig c = config(key(0, budget, null), Map.of(), new Price(1000, 0, 1000),
        new Timeouts(Duration.ofSeconds(1), Duration.ofMillis(300), Duration.ofSeconds(1), Duration.ofSeconds(5)),
        StateSettings.memory());
    GatewayServer g = gateway(c);
    Map<Integer, Integer> failed = burst(99, ",\"max_tokens\":10", g);
    // a 429 is the budget held by the estimates of requests in flight at that moment ($0.02 each, 99 at
    // once against $1.00): how many overlap depends on the transport's timing, never on a charge
    assertThat(failed.keySet()).allMatch(s -> s >= 500 || s == 429);
    assertThat(failed.keySet()).anyMatch(s -> s >= 500);
    assertThat(g.state().spentUsd("key:app")).as("failed everywhere: nothing charged").isZero();
    g.stop(Duration.ofMillis(200));
    gateways.remove(g);
    wm.resetAll(); // a fresh gateway: the 500s opened the first one's breaker
    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200).withFixedDelay(1500)
        .withHeader("Content-Type", "application/json").withBody("{\"choices\":[]}")));
    g = gateway(c);
    HttpResponse<String> timedOut = HTTP.send(chat(g.port(), ",\"max_tokens\":10"), HttpResponse.BodyHandlers.ofString());
    assertThat(timedOut.statusCode()).as(timedOut.body()).isEqualTo(504);
    GatewayServer served = g;
    await().atMost(Duration.ofSeconds(5)).until(() -> served.state().spentUsd("key:app") > 0); // settled after the answer
    double charged = g.state().spentUsd("key:app");
    System.out.printf("[shared-state] 99 requests failing at every backend: %s, spent $%.6f; one timed-out attempt"
        + " charged $%.6f%n", failed, 0.0, charged);
    // its prompt (a few tokens) at $1000 per million input tokens, nothing for output it never returned
    assertThat(charged).isGreaterThan(0.0).isLessThan(0.05);
  }

  @Test
  void nChoicesAreReservedSoTwoHundredRequestsWithNTenCannotOverspend() throws Exception {
    usage(10_000); // the backend generates n × 1,000 tokens
    Access.Budget dollar = new Access.Budget(Access.Period.DAY, 1.0, Double.NaN, false);
    GatewayConfig c = config(key(0, dollar, null), Map.of(), new Price(0, 0, 1), TestConfigs.fastTimeouts(),
        embedded("n.mv"));
    GatewayServer g = gateway(c);
    Map<Integer, Integer> answers = burst(200, ",\"n\":10,\"max_tokens\":1000", g);
    double spent = g.state().spentUsd("key:app");
    System.out.printf("[shared-state] n=10, max_tokens=1000, $1 budget, 200 concurrent: %s, spent $%.4f%n", answers,
        spent);
    // each request can cost 10 × 1,000 tokens at $1 per million = $0.01: reserved before it starts
    assertThat(spent).isLessThanOrEqualTo(1.0 + 0.01 + 1e-9);
    assertThat(answers.get(200)).isEqualTo(100);
  }

  @Test
  void aBudgetedRequestWithoutAnOutputBoundGetsOneSentUpstream() throws Exception {
    Access.Budget dollar = new Access.Budget(Access.Period.DAY, 1.0, Double.NaN, false);
    // $1 per million output tokens: the 4,096 reserved cost $0.004
    GatewayServer g = gateway(config(key(0, dollar, null), Map.of(), new Price(0, 0, 1), TestConfigs.fastTimeouts(),
        StateSettings.memory()));
    assertThat(burst(1, "", g)).containsOnlyKeys(200);
    wm.verify(postRequestedFor(urlEqualTo("/v1/chat/completions"))
        .withRequestBody(matchingJsonPath("$.max_tokens", com.github.tomakehurst.wiremock.client.WireMock.equalTo(
            "4096"))));
  }
}
