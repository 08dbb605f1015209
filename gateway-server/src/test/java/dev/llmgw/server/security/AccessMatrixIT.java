package dev.llmgw.server.security;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.SnapshotLoader;
import dev.llmgw.core.config.Secrets;
import dev.llmgw.core.exchange.ExchangeEvents;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.server.GatewayServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every endpoint × every kind of credential → the status it must get, with the OpenAI error shape
 * for every refusal. Credentials: none, an unknown key, a revoked key, a key of team A (no
 * restrictions), a key of team B (restricted to models {@code gw-model} and {@code auto} and to tier
 * {@code trivial}), and the admin token. The config is real YAML loaded as in production (keys stored
 * as SHA-256), so {@code /admin/reload} is exercised too, and a reload flips {@code protectMetrics}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccessMatrixIT {
  static final String KEY_A = "gwk-team-a-7Hq2Lm9Xc4Vb";
  static final String KEY_B = "gwk-team-b-3Rt8Yu1Io6Pa";
  static final String KEY_REVOKED = "gwk-revoked-5Sd0Fg2Hj7Kl";
  static final String ADMIN = "adm-matrix-9Zx4Cv6Bn1Mq";

  enum Cred {
    NONE(null), INVALID("gwk-not-a-key-0000000000"), REVOKED(KEY_REVOKED), TEAM_A(KEY_A), TEAM_B(KEY_B), ADMIN_TOKEN(ADMIN);

    final String token;

    Cred(String token) {
      this.token = token;
    }
  }

  @TempDir
  static Path dir;
  WireMockServer backend;
  GatewayServer gw;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  String gatewayYaml(boolean protectMetrics) {
    return """
        listener: { host: 127.0.0.1, port: 0 }
        backends:
          mock:
            baseUrl: http://127.0.0.1:%d/v1
            models: [backend-model, text-embedding, big-model]
        models:
          gw-model: { backend: mock, model: backend-model }
          embed: { backend: mock, model: text-embedding }
          big: { backend: mock, model: big-model }
        auth:
          open: false
          adminTokenSha256: %s
          protectMetrics: %s
          keys:
            team-a-app: { sha256: %s, team: team-a }
            team-b-app: { sha256: %s, team: team-b, models: [gw-model, auto], tiers: [trivial] }
            old-app: { sha256: %s, team: team-a, revoked: true }
          teams:
            team-a: {}
            team-b: {}
        """.formatted(backend.port(), Secrets.sha256Hex(ADMIN), protectMetrics, Secrets.sha256Hex(KEY_A),
        Secrets.sha256Hex(KEY_B), Secrets.sha256Hex(KEY_REVOKED));
  }

  static final String ROUTING_YAML = """
      version: 1
      defaultTier: trivial
      tiers:
        trivial: { targets: [gw-model] }
        high-stakes: { targets: [big] }
      forceTier: { header: x-gateway-tier, allowed: true }
      rules:
        - name: legal
          tier: high-stakes
          when:
            lastUserMessage: { keywords: [contract] }
      """;

  @BeforeAll
  void start() throws Exception {
    backend = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    backend.start();
    backend.stubFor(post(urlPathMatching("/v1/.*")).willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json")
        .withBody("{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[],"
            + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}")));
    Files.writeString(dir.resolve("gateway.yaml"), gatewayYaml(true));
    Files.writeString(dir.resolve("routing.yaml"), ROUTING_YAML);
    GatewaySnapshot s = SnapshotLoader.load(dir, Map.of(), 1);
    gw = new GatewayServer(s, Transport.best(), 2, dev.llmgw.core.log.RequestLogListener.NOOP).reloadFrom(dir, Map::of, 0).start();
    // team A's workflow, for the workflow endpoints
    assertThat(send("POST", "/v1/chat/completions", chat("gw-model", "hi"), Cred.TEAM_A, "x-workflow-id", "wf-team-a")
        .statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(5)).until(() -> gw.economics().ledger().get(dev.llmgw.core.economics.WorkflowLedger.namespace("team-a-app", "team-a"), "wf-team-a").isPresent());
  }

  @AfterAll
  void stop() {
    gw.stop(Duration.ofMillis(200));
    backend.stop();
  }

  static String chat(String model, String content) {
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}";
  }

  /**
   * One row of the matrix: a request and the status each credential must get ({@code ANY_OF} lists
   * several acceptable statuses where the contract allows either).
   */
  record Row(String name, String method, String path, String body, String[] headers, Map<Cred, Set<Integer>> expect) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Row row(String name, String method, String path, String body, int none, int invalid, int revoked, int teamA,
      int teamB, int admin, String... headers) {
    Map<Cred, Set<Integer>> e = new EnumMap<>(Cred.class);
    e.put(Cred.NONE, Set.of(none));
    e.put(Cred.INVALID, Set.of(invalid));
    e.put(Cred.REVOKED, Set.of(revoked));
    e.put(Cred.TEAM_A, Set.of(teamA));
    e.put(Cred.TEAM_B, Set.of(teamB));
    e.put(Cred.ADMIN_TOKEN, Set.of(admin));
    return new Row(name, method, path, body, headers, e);
  }

  static Row with(Row r, Cred c, Integer... statuses) {
    Map<Cred, Set<Integer>> e = new EnumMap<>(r.expect());
    e.put(c, Set.of(statuses));
    return new Row(r.name(), r.method(), r.path(), r.body(), r.headers(), e);
  }

  static List<Row> rows() {
    List<Row> rows = new ArrayList<>();
    // API endpoints: a gateway key (not the admin token) is needed; team B only within its models and tiers
    rows.add(row("chat gw-model", "POST", "/v1/chat/completions", chat("gw-model", "hi"), 401, 401, 401, 200, 200, 401));
    rows.add(row("chat big (model not allowed for B)", "POST", "/v1/chat/completions", chat("big", "hi"),
        401, 401, 401, 200, 403, 401));
    rows.add(row("chat auto, routed to high-stakes (tier not allowed for B)", "POST", "/v1/chat/completions",
        chat("auto", "review this contract"), 401, 401, 401, 200, 403, 401));
    rows.add(row("chat auto, trivial", "POST", "/v1/chat/completions", chat("auto", "hi"), 401, 401, 401, 200, 200, 401));
    rows.add(row("chat auto forcing high-stakes by header (B may not force)", "POST", "/v1/chat/completions",
        chat("auto", "hi"), 401, 401, 401, 200, 200, 401, "x-gateway-tier", "high-stakes"));
    rows.add(row("chat unknown model", "POST", "/v1/chat/completions", chat("no-such-model", "hi"),
        401, 401, 401, 404, 403, 401));
    rows.add(row("completions gw-model", "POST", "/v1/completions", "{\"model\":\"gw-model\",\"prompt\":\"hi\"}",
        401, 401, 401, 200, 200, 401));
    rows.add(row("embeddings embed (model not allowed for B)", "POST", "/v1/embeddings",
        "{\"model\":\"embed\",\"input\":\"hi\"}", 401, 401, 401, 200, 403, 401));
    rows.add(row("list models", "GET", "/v1/models", null, 401, 401, 401, 200, 200, 401));
    rows.add(row("model gw-model", "GET", "/v1/models/gw-model", null, 401, 401, 401, 200, 200, 401));
    rows.add(row("model embed (hidden from B)", "GET", "/v1/models/embed", null, 401, 401, 401, 200, 404, 401));
    // team A's workflow: not team B's to read or to report on
    rows.add(with(row("team A's workflow", "GET", "/v1/workflows/wf-team-a", null, 401, 401, 401, 200, 404, 401),
        Cred.TEAM_B, 403, 404));
    rows.add(with(row("team A's workflow outcome", "POST", "/v1/workflows/wf-team-a/outcome",
        "{\"outcome\":\"accepted\"}", 401, 401, 401, 200, 404, 401), Cred.TEAM_B, 403, 404));
    rows.add(row("unknown path under /v1", "GET", "/v1/nope", null, 401, 401, 401, 404, 404, 401));
    // the process's own endpoints
    rows.add(row("healthz", "GET", "/healthz", null, 200, 200, 200, 200, 200, 200));
    rows.add(row("readyz", "GET", "/readyz", null, 200, 200, 200, 200, 200, 200));
    rows.add(row("metrics (protectMetrics: true)", "GET", "/metrics", null, 401, 401, 401, 403, 403, 200));
    rows.add(row("unknown path", "GET", "/nope", null, 404, 404, 404, 404, 404, 404));
    // admin endpoints: the admin token only; a valid app key is 403, anything else 401
    rows.add(row("admin config", "GET", "/admin/config", null, 401, 401, 401, 403, 403, 200));
    rows.add(row("admin explain", "POST", "/admin/explain", chat("auto", "review this contract"),
        401, 401, 401, 403, 403, 200));
    rows.add(row("admin economics", "GET", "/admin/economics", null, 401, 401, 401, 403, 403, 200));
    rows.add(row("admin reload", "POST", "/admin/reload", "", 401, 401, 401, 403, 403, 200));
    rows.add(row("admin unknown", "GET", "/admin/nope", null, 401, 401, 401, 403, 403, 404));
    return rows;
  }

  static Stream<Arguments> cells() {
    return rows().stream().flatMap(r -> Stream.of(Cred.values()).map(c -> Arguments.of(r, c)));
  }

  @ParameterizedTest(name = "{0} × {1}")
  @MethodSource("cells")
  void cell(Row row, Cred cred) throws Exception {
    HttpResponse<String> r = send(row.method(), row.path(), row.body(), cred, row.headers());
    Set<Integer> expected = row.expect().get(cred);
    System.out.printf("MATRIX | %s | %s | %d | %s%n", row.name(), cred, r.statusCode(),
        r.statusCode() >= 400 ? code(r.body()) : "");
    assertThat(r.statusCode()).as("%s %s with %s: %s", row.method(), row.path(), cred, r.body()).isIn(expected);
    if (r.statusCode() >= 400) {
      JsonNode e = OpenAiErrors.assertShape(r.body(), row.name() + " × " + cred);
      assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
      switch (r.statusCode()) {
        case 401 -> {
          assertThat(e.path("type").asText()).isEqualTo("invalid_request_error");
          assertThat(e.path("code").asText()).isIn("missing_api_key", "invalid_api_key", "revoked_api_key");
          assertThat(e.path("code").asText()).isEqualTo(switch (cred) {
            case NONE -> "missing_api_key";
            case REVOKED -> row.path().startsWith("/admin/") || row.path().equals("/metrics") ? "invalid_api_key"
                : "revoked_api_key";
            default -> "invalid_api_key";
          });
        }
        case 403 -> {
          assertThat(e.path("type").asText()).isEqualTo("permission_error");
          assertThat(e.path("code").asText()).isEqualTo("forbidden");
        }
        case 404 -> assertThat(e.path("code").asText()).isIn("model_not_found", "unknown_url", "workflow_not_found");
        default -> { }
      }
    }
  }

  @Test
  void modelListShowsOnlyWhatTheKeyMayUse() throws Exception {
    assertThat(modelIds(Cred.TEAM_A)).containsExactly("auto", "gw-model", "embed", "big");
    assertThat(modelIds(Cred.TEAM_B)).containsExactly("auto", "gw-model");
  }

  @Test
  void restrictedKeyIsRefusedBeforeAnyBackendCall() throws Exception {
    backend.resetRequests();
    for (String body : List.of(chat("big", "hi"), chat("auto", "review this contract"))) {
      HttpResponse<String> r = send("POST", "/v1/chat/completions", body, Cred.TEAM_B);
      assertThat(r.statusCode()).isEqualTo(403);
    }
    assertThat(send("POST", "/v1/embeddings", "{\"model\":\"embed\",\"input\":\"hi\"}", Cred.TEAM_B).statusCode())
        .isEqualTo(403);
    assertThat(backend.getAllServeEvents()).as("no backend call for a refused request").isEmpty();
    // a key that may not force a tier cannot escalate with the header: it is ignored, not obeyed
    HttpResponse<String> r = send("POST", "/v1/chat/completions", chat("auto", "hi"), Cred.TEAM_B,
        "x-gateway-tier", "high-stakes");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-gateway-tier")).hasValue("trivial");
    assertThat(backend.getAllServeEvents()).hasSize(1);
    assertThat(backend.getAllServeEvents().get(0).getRequest().getBodyAsString()).contains("\"backend-model\"");
  }

  /** protectMetrics false (applied by a reload): /metrics is open to anyone, credential or not. */
  @Test
  void metricsOpenWhenNotProtected() throws Exception {
    Path yaml = dir.resolve("gateway.yaml");
    try {
      Files.writeString(yaml, gatewayYaml(false));
      assertThat(send("POST", "/admin/reload", "", Cred.ADMIN_TOKEN).statusCode()).isEqualTo(200);
      for (Cred c : Cred.values()) {
        HttpResponse<String> r = send("GET", "/metrics", null, c);
        System.out.printf("MATRIX | metrics (protectMetrics: false) | %s | %d |%n", c, r.statusCode());
        assertThat(r.statusCode()).as("/metrics with %s", c).isEqualTo(200);
        assertThat(r.body()).contains("gateway_connections_active");
      }
    } finally {
      Files.writeString(yaml, gatewayYaml(true));
      assertThat(send("POST", "/admin/reload", "", Cred.ADMIN_TOKEN).statusCode()).isEqualTo(200);
    }
    assertThat(send("GET", "/metrics", null, Cred.NONE).statusCode()).isEqualTo(401);
    assertThat(send("GET", "/metrics", null, Cred.TEAM_A).statusCode()).isEqualTo(403);
  }

  List<String> modelIds(Cred c) throws Exception {
    HttpResponse<String> r = send("GET", "/v1/models", null, c);
    assertThat(r.statusCode()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    RequestParser.JSON.readTree(r.body()).path("data").forEach(m -> ids.add(m.path("id").asText()));
    return ids;
  }

  HttpResponse<String> send(String method, String path, String body, Cred cred, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + path))
        .timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    if (cred.token != null) {
      b.header("Authorization", "Bearer " + cred.token);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String code(String body) {
    try {
      return RequestParser.JSON.readTree(body).path("error").path("code").asText();
    } catch (java.io.IOException e) {
      return "?";
    }
  }
}
