package dev.llmgw.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.SnapshotLoader;
import dev.llmgw.core.exchange.ExchangeEvents;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.upstream.Transport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tier routing through the running gateway: decisions visible in headers, the explain endpoint,
 * and hot reload — good and broken files, under concurrent load, each response consistent with the
 * one snapshot it started with.
 */
class RoutingIT {
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  static final String ADMIN_TOKEN = "routing-it-admin";
  static final String ADMIN_SHA256 = dev.llmgw.core.config.Secrets.sha256Hex(ADMIN_TOKEN);

  @TempDir
  Path dir;
  WireMockServer cheap;
  WireMockServer strong;
  GatewayServer gw;

  static String gatewayYaml(int cheapPort, int strongPort) {
    return """
        listener: { host: 127.0.0.1, port: 0 }
        backends:
          cheap:
            baseUrl: http://127.0.0.1:%d/v1
            models: [small]
            resilience: { maxConcurrent: 1024 } # 300 requests at once under reloads: none refused by the bulkhead
          strong:
            baseUrl: http://127.0.0.1:%d/v1
            models: [large]
            resilience: { maxConcurrent: 1024 }
        models:
          small: { backend: cheap, price: { input: 0.1, output: 0.2 } }
          large: { backend: strong, price: { input: 5, output: 15 } }
        state: { store: memory }
        auth:
          open: true
          adminTokenSha256: %s
          keys:
            cheap-only: { sha256: %s, tiers: [trivial] }
        """.formatted(cheapPort, strongPort, ADMIN_SHA256, "ab".repeat(32));
  }

  static String routingYaml(String version, String stakesTier) {
    return """
        version: %s
        defaultTier: trivial
        tiers:
          trivial: { targets: [small] }
          high-stakes: { targets: [large, small] }
        forceTier: { header: x-gateway-tier, allowed: true }
        rules:
          - name: legal
            tier: %s
            when:
              lastUserMessage: { keywords: [contract, lawsuit] }
        """.formatted(version, stakesTier);
  }

  @BeforeEach
  void start() throws Exception {
    cheap = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort().containerThreads(40));
    strong = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort().containerThreads(40));
    cheap.start();
    strong.start();
    for (WireMockServer w : List.of(cheap, strong)) {
      w.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
          .withHeader("Content-Type", "application/json")
          .withBody("{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[],"
              + "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}")));
    }
    Files.writeString(dir.resolve("gateway.yaml"), gatewayYaml(cheap.port(), strong.port()));
    Files.writeString(dir.resolve("routing.yaml"), routingYaml("1", "high-stakes"));
    GatewaySnapshot s = SnapshotLoader.load(dir, Map.of(), 1);
    gw = new GatewayServer(s, Transport.best(), 2, dev.llmgw.core.log.RequestLogListener.NOOP).reloadFrom(dir, Map::of, 0).start();
  }

  @AfterEach
  void stop() {
    gw.stop(Duration.ofMillis(200));
    cheap.stop();
    strong.stop();
  }

  HttpResponse<String> chat(String content, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\""
            + content + "\"}]}"));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> admin(String method, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + path))
        .header("Authorization", "Bearer " + ADMIN_TOKEN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void autoIsAModelWhenRulesAreLoaded() throws Exception {
    HttpResponse<String> list = HTTP.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + gw.port() + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(list.statusCode()).isEqualTo(200);
    var ids = new java.util.ArrayList<String>();
    dev.llmgw.core.ingress.RequestParser.JSON.readTree(list.body()).path("data")
        .forEach(m -> ids.add(m.path("id").asText()));
    assertThat(ids).first().isEqualTo("auto");
    HttpResponse<String> one = HTTP.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + gw.port() + "/v1/models/auto")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(one.statusCode()).isEqualTo(200);
    assertThat(dev.llmgw.core.ingress.RequestParser.JSON.readTree(one.body()).path("id").asText()).isEqualTo("auto");
    assertThat(cheap.getAllServeEvents()).as("answered by the gateway").isEmpty();
  }

  @Test
  void decisionsAreVisibleInHeaders() throws Exception {
    HttpResponse<String> legal = chat("Review this contract please");
    assertThat(legal.headers().firstValue("x-gateway-tier")).hasValue("high-stakes");
    assertThat(legal.headers().firstValue("x-gateway-rule")).hasValue("legal");
    assertThat(legal.headers().firstValue("x-gateway-backend")).hasValue("strong");
    HttpResponse<String> chit = chat("hello there");
    assertThat(chit.headers().firstValue("x-gateway-tier")).hasValue("trivial");
    assertThat(chit.headers().firstValue("x-gateway-rule")).hasValue("default");
    assertThat(chit.headers().firstValue("x-gateway-backend")).hasValue("cheap");
    HttpResponse<String> forced = chat("hello there", "x-gateway-tier", "high-stakes");
    assertThat(forced.headers().firstValue("x-gateway-tier")).hasValue("high-stakes");
    assertThat(forced.headers().firstValue("x-gateway-rule")).hasValue("forced-by-header");
  }

  @Test
  void aTiersTimeoutsOverrideItsBackends() throws Exception {
    Files.writeString(dir.resolve("routing.yaml"), routingYaml("5", "high-stakes")
        .replace("trivial: { targets: [small] }", "trivial: { targets: [small], timeouts: { firstByte: 300ms } }"));
    assertThat(admin("POST", "/admin/reload", null).statusCode()).isEqualTo(200);
    // the backend answers after 4 s: with the tier's 300 ms first-byte deadline every attempt (the
    // retries included, about 1 s together on a quiet machine) gives up long before that
    cheap.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200).withFixedDelay(4000)
        .withHeader("Content-Type", "application/json").withBody("{}")));
    long t0 = System.nanoTime();
    HttpResponse<String> r = chat("hello");
    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(3000));
    Files.writeString(dir.resolve("routing.yaml"), routingYaml("6", "high-stakes")
        .replace("trivial: { targets: [small] }", "trivial: { targets: [small], timeouts: { connect: 1s } }"));
    HttpResponse<String> refused = admin("POST", "/admin/reload", null);
    assertThat(refused.statusCode()).isEqualTo(422);
    assertThat(refused.body()).contains("tiers.trivial.timeouts.connect");
  }

  @Test
  void adminEndpointsNeedTheAdminToken() throws Exception {
    HttpResponse<String> none = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port()
        + "/admin/reload")).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(RequestParser.JSON.readTree(none.body()).at("/error/type").asText()).isNotBlank();
  }

  @Test
  void explainShowsTheDecisionAndTraceWithoutCallingABackend() throws Exception {
    HttpResponse<String> r = admin("POST", "/admin/explain",
        "{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"a lawsuit\"}]}");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode n = RequestParser.JSON.readTree(r.body());
    assertThat(n.get("tier").asText()).isEqualTo("high-stakes");
    assertThat(n.get("rule").asText()).isEqualTo("legal");
    assertThat(n.get("candidates").findValuesAsText("model")).containsExactly("large", "small");
    assertThat(n.get("trace").get(0).get("matched").asBoolean()).isTrue();
    assertThat(cheap.getAllServeEvents()).isEmpty();
    assertThat(strong.getAllServeEvents()).isEmpty();
  }

  @Test
  void explainAsANamedKeyShowsWhatLiveRoutingDoesForThatKey() throws Exception {
    String body = "{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"a lawsuit\"}]}";
    JsonNode keyed = RequestParser.JSON.readTree(admin("POST", "/admin/explain?key=cheap-only", body).body());
    assertThat(keyed.get("caller").asText()).isEqualTo("cheap-only");
    assertThat(keyed.at("/refusal/status").asInt()).as(keyed.toString()).isEqualTo(403);
    JsonNode anonymous = RequestParser.JSON.readTree(admin("POST", "/admin/explain", body).body());
    assertThat(anonymous.get("caller").asText()).isEqualTo("anonymous");
    assertThat(anonymous.get("tier").asText()).isEqualTo("high-stakes");
    HttpResponse<String> unknown = admin("POST", "/admin/explain?key=nobody", body);
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(unknown.body()).contains("no gateway key is named 'nobody'");
  }

  @Test
  void brokenReloadIsRefusedWithFileLineAndPathAndTheOldConfigServes() throws Exception {
    Files.writeString(dir.resolve("routing.yaml"), routingYaml("2", "no-such-tier"));
    HttpResponse<String> r = admin("POST", "/admin/reload", null);
    assertThat(r.statusCode()).isEqualTo(422);
    String message = RequestParser.JSON.readTree(r.body()).at("/error/message").asText();
    assertThat(message).contains("routing.yaml:").contains("rules[0].tier").contains("no-such-tier");
    assertThat(chat("a contract").headers().firstValue("x-gateway-tier")).hasValue("high-stakes");
    assertThat(gw.meterRegistry().get("gateway.config.reloads").tag("result", "refused").counter().count())
        .isEqualTo(1);
    Files.writeString(dir.resolve("routing.yaml"), routingYaml("3", "trivial"));
    assertThat(admin("POST", "/admin/reload", null).statusCode()).isEqualTo(200);
    assertThat(chat("a contract").headers().firstValue("x-gateway-tier")).hasValue("trivial");
  }

  @Test
  void reloadsUnderLoadGiveEveryRequestOneConsistentResponse() throws Exception {
    AtomicBoolean running = new AtomicBoolean(true);
    CompletableFuture<Integer> reloads = CompletableFuture.supplyAsync(() -> {
      int n = 0;
      try {
        while (running.get()) {
          n++;
          // alternate: the legal rule goes to high-stakes, then to trivial, with a broken file between
          String tier = n % 3 == 0 ? "broken tier" : n % 3 == 1 ? "trivial" : "high-stakes";
          Files.writeString(dir.resolve("routing.yaml"), routingYaml(Integer.toString(n), tier));
          int status = admin("POST", "/admin/reload", null).statusCode();
          if (status != (n % 3 == 0 ? 422 : 200)) {
            throw new IllegalStateException("reload " + n + " answered " + status);
          }
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return n;
    });
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      all.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
          .POST(HttpRequest.BodyPublishers.ofString(
              "{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"sign this contract\"}]}")).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> f : all) {
      HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(200);
      String tier = r.headers().firstValue("x-gateway-tier").orElseThrow();
      String backend = r.headers().firstValue("x-gateway-backend").orElseThrow();
      // one snapshot per request: the tier and the backend that served always agree
      assertThat(tier.equals("high-stakes") ? "strong" : "cheap").isEqualTo(backend);
    }
    running.set(false);
    assertThat(reloads.get(30, TimeUnit.SECONDS)).isGreaterThan(2);
    assertThat(cheap.getAllServeEvents().size() + strong.getAllServeEvents().size()).isEqualTo(300);
  }

  @Test
  void aFileChangeIsPickedUpByTheWatcher() throws Exception {
    gw.stop(Duration.ofMillis(100));
    gw = new GatewayServer(SnapshotLoader.load(dir, Map.of(), 1), Transport.nio(), 1, dev.llmgw.core.log.RequestLogListener.NOOP)
        .reloadFrom(dir, Map::of, 200).start();
    Files.writeString(dir.resolve("routing.yaml"), routingYaml("9", "trivial"));
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(chat("a contract").headers().firstValue("x-gateway-tier")).hasValue("trivial"));
    assertThat(gw.snapshot().policy().version()).isEqualTo(9);
  }
}
