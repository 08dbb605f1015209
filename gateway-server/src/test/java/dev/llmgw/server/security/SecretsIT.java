package dev.llmgw.server.security;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.http.HttpHeader;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.SnapshotLoader;
import dev.llmgw.core.config.Secrets;
import dev.llmgw.core.config.TracingSettings;
import dev.llmgw.core.trace.Tracing;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import dev.llmgw.core.exchange.ExchangeEvents;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.server.GatewayServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * "Nothing leaks": a gateway holding a sentinel provider key (read from the environment, as in
 * production), a sentinel gateway key (only its SHA-256 in the config) and a sentinel admin token is
 * driven through every endpoint with good and bad input and every kind of credential, and through
 * every way a backend can fail. Everything that leaves the gateway is captured — every response
 * (status, every header, body), every log line of the root and {@code access} loggers with
 * {@code dev.llmgw} and {@code io.netty} at DEBUG (throwables and arguments included), the
 * {@code /metrics} exposition and the admin output — and none of it may contain any secret: not
 * whole, not any 8-character piece of it, not its SHA-256 (nor the first 16 hex digits of it), not
 * its Base64.
 *
 * <p>Egress: the backend receives only {@code Authorization: Bearer <provider key>} and an
 * allow-list of headers the gateway sets itself; nothing in a request (body fields like
 * {@code api_base}, headers like {@code x-api-base} or {@code Host}, an absolute-form request
 * target, the model name) or in a backend answer (a redirect) sends anything anywhere else: a second
 * WireMock standing for "evil" must see nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecretsIT {
  static final String PROVIDER_KEY = "sk-prov-Qx7ZmW3kTn9VbR2yLp5HdJ8cF4gA";
  static final String GATEWAY_KEY = "gwk-Ab3dEf6hJk9mNp2qRs5tUv8wXyZ0";
  static final String ADMIN_TOKEN = "adm-Lq4Wc8Ne1Rb6Ty3Ui9Op2As5Df7G";
  static final Map<String, String> ENV = Map.of("MOCK_PROVIDER_KEY", PROVIDER_KEY, "GW_ADMIN_TOKEN", ADMIN_TOKEN);
  static final List<Secret> SECRETS = List.of(new Secret("provider key", PROVIDER_KEY),
      new Secret("gateway key", GATEWAY_KEY), new Secret("admin token", ADMIN_TOKEN));

  /**
   * Headers the gateway sets on a backend request; anything else there came from somewhere else.
   * {@code traceparent} is the gateway's own (its attempt span's), never the client's.
   */
  static final Set<String> UPSTREAM_HEADERS = Set.of("host", "content-type", "content-length", "accept",
      "accept-encoding", "user-agent", "x-request-id", "authorization", "connection", "traceparent");
  static final String CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c";
  static final String CLIENT_SPAN = "b7ad6b7169203331";

  static final String CHAT_RESPONSE = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
      + "\"model\":\"backend-model\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},"
      + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}";
  static final String SSE = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
      + "\"delta\":{\"content\":\"ok\"}}]}\n\ndata: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
      + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\ndata: [DONE]\n\n";

  @TempDir
  static Path dir;
  WireMockServer backend;
  WireMockServer evil;
  GatewayServer gw;
  /** Every span the gateway ended (tracing on, in memory): their attributes are scanned for secrets too. */
  final InMemorySpanExporter spans = InMemorySpanExporter.create();
  HttpClient http;
  LogCapture logs;
  /** Everything the gateway answered in the current test, as text. */
  final List<String> transcript = new ArrayList<>();
  int requestsSent;

  record Secret(String name, String value) {
    /** Every piece of the secret that must not appear anywhere: 8-char windows, hashes, Base64. */
    List<String> fragments() {
      Set<String> f = new LinkedHashSet<>();
      for (int i = 0; i + 8 <= value.length(); i++) {
        f.add(value.substring(i, i + 8));
      }
      String sha = Secrets.sha256Hex(value);
      f.add(sha);
      f.add(sha.substring(0, 16));
      f.add(Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8)));
      f.add(Base64.getEncoder().encodeToString(("Bearer " + value).getBytes(StandardCharsets.UTF_8)));
      return List.copyOf(f);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // set-up
  // ---------------------------------------------------------------------------------------------------

  String gatewayYaml(String apiKeyEnv, String adminTokenEnv) {
    return """
        listener: { host: 127.0.0.1, port: 0 }
        limits: { requestReceiveTimeout: 10s }
        failover: { maxAttempts: 1 }
        backends:
          mock:
            baseUrl: http://127.0.0.1:%d/v1
            apiKeyEnv: %s
            models: [backend-model, text-embedding]
            timeouts: { connect: 1s, firstByte: 1s, idle: 1s, total: 5s }
            resilience:
              breaker: { window: 1000, minimumCalls: 1000 }
              retry: { maxAttempts: 1 }
        models:
          gw-model: { backend: mock, model: backend-model, price: { input: 1, output: 2 } }
          embed: { backend: mock, model: text-embedding, price: { input: 0.1, output: 0 } }
        economics:
          workflowTypes:
            support-reply: { repairCostPerMinute: 0.75 }
        auth:
          open: false
          adminTokenEnv: %s
          protectMetrics: true
          keys:
            sentinel-app: { sha256: %s, team: sentinel-team }
          teams:
            sentinel-team: { budget: { period: day, hard: 100 } }
        """.formatted(backend.port(), apiKeyEnv, adminTokenEnv, Secrets.sha256Hex(GATEWAY_KEY));
  }

  static final String ROUTING_YAML = """
      version: 1
      defaultTier: trivial
      tiers:
        trivial: { targets: [gw-model] }
        high-stakes: { targets: [gw-model] }
      rules:
        - name: legal
          tier: high-stakes
          when:
            lastUserMessage: { keywords: [contract] }
      """;

  @BeforeAll
  void start() throws Exception {
    backend = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    evil = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    backend.start();
    evil.start();
    evil.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
        .withBody(CHAT_RESPONSE)));
    stubBackend();
    Files.writeString(dir.resolve("gateway.yaml"), gatewayYaml("MOCK_PROVIDER_KEY", "GW_ADMIN_TOKEN"));
    Files.writeString(dir.resolve("routing.yaml"), ROUTING_YAML);
    GatewaySnapshot s = SnapshotLoader.load(dir, ENV, 1);
    Tracing tracing = Tracing.of(SimpleSpanProcessor.create(spans), new TracingSettings(true,
        TracingSettings.DEFAULT_ENDPOINT, Map.of(), 1.0, "secrets-it"));
    gw = new GatewayServer(s, Transport.best(), 2, dev.llmgw.core.log.RequestLogListener.NOOP, tracing)
        .reloadFrom(dir, () -> ENV, 0).start();
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  void stubBackend() {
    String echoed = "Incorrect API key provided: " + PROVIDER_KEY + " (" + PROVIDER_KEY.substring(0, 8) + "****"
        + PROVIDER_KEY.substring(PROVIDER_KEY.length() - 4) + ")";
    backend.stubFor(post(urlPathMatching("/v1/.*")).atPriority(10).willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json").withBody(CHAT_RESPONSE)));
    backend.stubFor(post("/v1/chat/completions").atPriority(9).withRequestBody(containing("\"stream\":true"))
        .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "text/event-stream").withBody(SSE)));
    for (Scenario sc : Scenario.values()) {
      var stub = post("/v1/chat/completions").atPriority(1).withRequestBody(containing(sc.name()));
      backend.stubFor(stub.willReturn(switch (sc) {
        case BACKEND_401 -> aResponse().withStatus(401).withHeader("Content-Type", "application/json")
            .withHeader("x-echo", PROVIDER_KEY).withBody(errorJson(echoed, "invalid_request_error", "invalid_api_key"));
        case BACKEND_403 -> aResponse().withStatus(403).withHeader("Content-Type", "application/json")
            .withBody(errorJson("Key " + PROVIDER_KEY + " may not use this model", "permission_error", null));
        case BACKEND_429 -> aResponse().withStatus(429).withHeader("Content-Type", "application/json")
            .withHeader("retry-after", "0").withBody(errorJson("Rate limit for key " + PROVIDER_KEY,
                "requests", "rate_limit_exceeded"));
        case BACKEND_500_JSON -> aResponse().withStatus(500).withHeader("Content-Type", "application/json")
            .withBody(errorJson("auth cache failure for " + PROVIDER_KEY, "server_error", null));
        case BACKEND_500_TEXT -> aResponse().withStatus(500).withHeader("Content-Type", "text/plain")
            .withBody("Internal error. Request had: Authorization: Bearer " + PROVIDER_KEY);
        case BACKEND_503_HTML -> aResponse().withStatus(503).withHeader("Content-Type", "text/html")
            .withBody("<html><body>upstream key " + PROVIDER_KEY.substring(0, 12) + "... overloaded</body></html>");
        case BACKEND_400_ECHO -> aResponse().withStatus(400).withHeader("Content-Type", "application/json")
            .withBody(errorJson("Invalid 'user' (request signed with " + PROVIDER_KEY + ")", "invalid_request_error",
                "invalid_value"));
        case BACKEND_404_ECHO -> aResponse().withStatus(404).withHeader("Content-Type", "application/json")
            .withBody(errorJson("Model not found for key " + PROVIDER_KEY, "invalid_request_error", "model_not_found"));
        case BACKEND_CONTEXT_ECHO -> aResponse().withStatus(400).withHeader("Content-Type", "application/json")
            .withBody(errorJson("This model's maximum context length is 8 tokens (key " + PROVIDER_KEY + ")",
                "invalid_request_error", "context_length_exceeded"));
        case BACKEND_TIMEOUT -> aResponse().withStatus(200).withFixedDelay(2_500).withBody(CHAT_RESPONSE);
        case BACKEND_RESET -> aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER);
        case BACKEND_GARBAGE -> aResponse().withFault(Fault.MALFORMED_RESPONSE_CHUNK);
        case BACKEND_REDIRECT -> aResponse().withStatus(302)
            .withHeader("Location", "http://127.0.0.1:" + evil.port() + "/v1/chat/completions?k=" + PROVIDER_KEY);
      }));
    }
  }

  static String errorJson(String message, String type, String code) {
    return "{\"error\":{\"message\":\"" + message + "\",\"type\":\"" + type + "\",\"param\":null,\"code\":"
        + (code == null ? "null" : "\"" + code + "\"") + "}}";
  }

  @AfterAll
  void stop() {
    gw.stop(Duration.ofMillis(200));
    backend.stop();
    evil.stop();
  }

  @BeforeEach
  void beginCapture() {
    transcript.clear();
    requestsSent = 0;
    backend.resetRequests();
    spans.reset();
    logs = LogCapture.start("dev.llmgw", "io.netty");
  }

  @AfterEach
  void endCapture() {
    logs.close();
  }

  // ---------------------------------------------------------------------------------------------------
  // the sweep: every endpoint × every credential, good and bad input
  // ---------------------------------------------------------------------------------------------------

  static final String CHAT = "{\"model\":\"gw-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";

  /** Ways a client presents (or fails to present) a credential. */
  static Map<String, String[]> credentials() {
    Map<String, String[]> c = new java.util.LinkedHashMap<>();
    c.put("none", new String[0]);
    c.put("wrong key", new String[] {"Authorization", "Bearer gwk-wrong-" + GATEWAY_KEY.substring(0, 3)});
    c.put("gateway key", new String[] {"Authorization", "Bearer " + GATEWAY_KEY});
    c.put("gateway key as api-key", new String[] {"api-key", GATEWAY_KEY});
    c.put("gateway key as Basic", new String[] {"Authorization", "Basic " + Base64.getEncoder()
        .encodeToString(("user:" + GATEWAY_KEY).getBytes(StandardCharsets.UTF_8))});
    c.put("gateway key without Bearer", new String[] {"Authorization", GATEWAY_KEY});
    c.put("admin token", new String[] {"Authorization", "Bearer " + ADMIN_TOKEN});
    c.put("provider key", new String[] {"Authorization", "Bearer " + PROVIDER_KEY});
    return c;
  }

  @Test
  void everyEndpointWithEveryCredentialLeaksNothing() throws Exception {
    // a workflow to read and to report on
    assertThat(call("POST", "/v1/chat/completions", CHAT, "Authorization", "Bearer " + GATEWAY_KEY,
        "x-workflow-id", "wf-secrets", "x-workflow-type", "support-reply").status()).isEqualTo(200);
    List<String[]> endpoints = List.of(
        new String[] {"GET", "/healthz", null},
        new String[] {"GET", "/readyz", null},
        new String[] {"GET", "/metrics", null},
        new String[] {"GET", "/v1/models", null},
        new String[] {"GET", "/v1/models/gw-model", null},
        new String[] {"GET", "/v1/models/no-such-model", null},
        new String[] {"POST", "/v1/chat/completions", CHAT},
        new String[] {"POST", "/v1/chat/completions", "{\"model\":\"gw-model\",\"stream\":true,\"messages\":"
            + "[{\"role\":\"user\",\"content\":\"hello\"}]}"},
        new String[] {"POST", "/v1/chat/completions", "{\"model\":\"gw-model\",\"messages\":[{\"role\":"},
        new String[] {"POST", "/v1/chat/completions", "{\"messages\":[]}"},
        new String[] {"POST", "/v1/chat/completions", "{\"model\":\"no-such-model\",\"messages\":[]}"},
        new String[] {"GET", "/v1/chat/completions", null},
        new String[] {"POST", "/v1/completions", "{\"model\":\"gw-model\",\"prompt\":\"hello\"}"},
        new String[] {"POST", "/v1/embeddings", "{\"model\":\"embed\",\"input\":\"hello\"}"},
        new String[] {"POST", "/v1/embeddings", "not json at all"},
        new String[] {"GET", "/v1/workflows/wf-secrets", null},
        new String[] {"GET", "/v1/workflows/no-such-workflow", null},
        new String[] {"POST", "/v1/workflows/wf-secrets/outcome", "{\"outcome\":\"accepted\",\"value\":3}"},
        new String[] {"POST", "/v1/workflows/wf-secrets/outcome", "{\"outcome\":"},
        new String[] {"GET", "/admin/config", null},
        new String[] {"POST", "/admin/explain", "{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":"
            + "\"review this contract\"}]}"},
        new String[] {"POST", "/admin/explain", "{oops"},
        new String[] {"GET", "/admin/economics", null},
        new String[] {"GET", "/admin/economics?window=bogus", null},
        new String[] {"POST", "/admin/reload", ""},
        new String[] {"GET", "/admin/nope", null},
        new String[] {"GET", "/v1/nope", null},
        new String[] {"GET", "/nope", null});
    int adminOk = 0;
    int keyOk = 0;
    for (String[] e : endpoints) {
      for (Map.Entry<String, String[]> c : credentials().entrySet()) {
        Resp r = call(e[0], e[1], e[2], c.getValue());
        System.out.printf("SECRETS | %s %s | %s | %s | %d | %s%n", e[0], e[1], e[2] == null ? "" : e[2].length() > 40
            ? e[2].substring(0, 40) + "..." : e[2], c.getKey(), r.status(), r.status() >= 400
            ? RequestParserHolder.code(r.body()) : "");
        if (r.status() >= 400) {
          OpenAiErrors.assertShape(r.body(), e[0] + " " + e[1] + " with " + c.getKey());
        }
        if (c.getKey().equals("admin token") && e[1].startsWith("/admin/config") && r.status() == 200) {
          adminOk++;
        }
        if (c.getKey().equals("gateway key") && e[1].equals("/v1/models") && r.status() == 200) {
          keyOk++;
        }
      }
    }
    // secrets sent somewhere else than a header: the query string
    call("GET", "/v1/models?api_key=" + GATEWAY_KEY, null);
    call("GET", "/v1/models?api_key=" + GATEWAY_KEY, null, "Authorization", "Bearer " + GATEWAY_KEY);
    // the sweep was not vacuous: the credentials did open the doors they should
    assertThat(adminOk).as("admin token accepted on /admin/config").isEqualTo(1);
    assertThat(keyOk).as("gateway key accepted on /v1/models").isEqualTo(1);
    transcript.add("scrape: " + gw.meterRegistry().scrape());
    assertNothingLeaked();
    assertBackendSawOnlyTheProviderKey();
  }

  /**
   * Credentials in malformed requests (refused by the HTTP decoder, whose messages end up in the 400
   * body and in DEBUG logs): a header line without a colon, a NUL inside the value, an Authorization
   * header over the header limit, a key in an over-long request line, a non-token header name.
   */
  @Test
  void malformedRequestsCarryingACredentialNeverEchoIt() throws Exception {
    List<String> raws = List.of(
        "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization Bearer " + GATEWAY_KEY + "\r\n\r\n",
        "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + GATEWAY_KEY.substring(0, 10) + "\u0000"
            + GATEWAY_KEY.substring(10) + "\r\n\r\n",
        "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + GATEWAY_KEY + "x".repeat(20_000) + "\r\n\r\n",
        "GET /v1/models?api_key=" + GATEWAY_KEY + "&pad=" + "x".repeat(9_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthori\u00e9zation: Bearer " + GATEWAY_KEY + "\r\n\r\n",
        "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + ADMIN_TOKEN + "\r\n Bearer " + GATEWAY_KEY
            + "\r\n\r\n",
        "GET /" + PROVIDER_KEY.substring(0, 3) + "%00 HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + PROVIDER_KEY + "\r\n"
            + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab");
    for (String raw : raws) {
      try (RawHttp conn = RawHttp.connect(gw.port())) {
        conn.send(raw);
        RawHttp.Response r = conn.read();
        requestsSent++;
        transcript.add(r.text());
        assertThat(r.status()).as(raw.substring(0, 40)).isBetween(400, 499);
        OpenAiErrors.assertShape(r.body(), raw.substring(0, 40));
        System.out.printf("SECRETS-MALFORMED | %d | %s%n", r.status(), r.body());
      }
    }
    assertNothingLeaked();
  }

  // ---------------------------------------------------------------------------------------------------
  // backend failures: nothing the backend says about our key reaches the client or the log
  // ---------------------------------------------------------------------------------------------------

  enum Scenario {
    BACKEND_401, BACKEND_403, BACKEND_429, BACKEND_500_JSON, BACKEND_500_TEXT, BACKEND_503_HTML, BACKEND_400_ECHO,
    BACKEND_404_ECHO, BACKEND_CONTEXT_ECHO, BACKEND_TIMEOUT, BACKEND_RESET, BACKEND_GARBAGE, BACKEND_REDIRECT
  }

  static Stream<Arguments> scenarios() {
    return Stream.of(Scenario.values()).flatMap(s -> Stream.of(Arguments.of(s, false), Arguments.of(s, true)));
  }

  @ParameterizedTest(name = "{0} stream={1}")
  @MethodSource("scenarios")
  void backendFailureLeaksNothing(Scenario sc, boolean stream) throws Exception {
    String body = "{\"model\":\"gw-model\"," + (stream ? "\"stream\":true," : "")
        + "\"messages\":[{\"role\":\"user\",\"content\":\"" + sc.name() + "\"}]}";
    Resp r = call("POST", "/v1/chat/completions", body, "Authorization", "Bearer " + GATEWAY_KEY);
    assertThat(r.status()).as(sc + ": an error").isGreaterThanOrEqualTo(400);
    OpenAiErrors.assertShape(r.body(), sc.name());
    assertThat(backend.getAllServeEvents()).as(sc + ": the backend was called").isNotEmpty();
    await().atMost(Duration.ofSeconds(5)).until(() -> logs.events().stream()
        .anyMatch(e -> e.startsWith("DEBUG dev.llmgw") || e.startsWith("WARN dev.llmgw")));
    System.out.printf("SECRETS-BACKEND | %s | stream=%s | %d | %s%n", sc, stream, r.status(), r.body());
    transcript.add("scrape: " + gw.meterRegistry().scrape());
    assertNothingLeaked();
    assertBackendSawOnlyTheProviderKey();
    assertThat(evil.getAllServeEvents()).as("evil backend").isEmpty();
  }

  // ---------------------------------------------------------------------------------------------------
  // egress: what the backend receives, and that nothing goes anywhere else
  // ---------------------------------------------------------------------------------------------------

  @Test
  void backendReceivesOnlyTheProviderKeyAndHeadersTheGatewaySets() throws Exception {
    String evilUrl = "http://127.0.0.1:" + evil.port() + "/v1";
    Resp r = call("POST", "/v1/chat/completions", CHAT,
        "Authorization", "Bearer " + GATEWAY_KEY,
        "api-key", GATEWAY_KEY,
        "x-api-key", GATEWAY_KEY,
        "Proxy-Authorization", "Bearer " + GATEWAY_KEY,
        "Cookie", "session=" + GATEWAY_KEY,
        "OpenAI-Organization", "org-evil",
        "OpenAI-Project", "proj-evil",
        "x-api-base", evilUrl,
        "x-base-url", evilUrl,
        "X-Forwarded-Host", "127.0.0.1:" + evil.port(),
        "X-Forwarded-For", "10.0.0.1",
        "Forwarded", "for=10.0.0.1;host=127.0.0.1:" + evil.port(),
        "x-gateway-backend", "evil",
        "traceparent", "00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01",
        "x-request-id", "rid-egress-1");
    assertThat(r.status()).isEqualTo(200);
    List<ServeEvent> seen = backend.getAllServeEvents();
    assertThat(seen).hasSize(1);
    var req = seen.get(0).getRequest();
    assertThat(req.getHeader("Authorization")).isEqualTo("Bearer " + PROVIDER_KEY);
    assertThat(req.getHeader("Host")).isEqualTo("127.0.0.1:" + backend.port());
    assertThat(req.getHeader("x-request-id")).isEqualTo("rid-egress-1");
    Set<String> names = new java.util.TreeSet<>();
    for (HttpHeader h : req.getHeaders().all()) {
      names.add(h.key().toLowerCase(Locale.ROOT));
    }
    assertThat(names).as("headers the backend received").isSubsetOf(UPSTREAM_HEADERS);
    // the trace goes on, but the backend sees the gateway's attempt span as its parent, not the client's span
    String traceparent = req.getHeader("traceparent");
    assertThat(traceparent).matches("00-" + CLIENT_TRACE + "-[0-9a-f]{16}-01")
        .isNotEqualTo("00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01");
    String attemptSpan = traceparent.substring(36, 52);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      SpanData attempt = spans.getFinishedSpanItems().stream().filter(sp -> sp.getSpanId().equals(attemptSpan))
          .findFirst().orElseThrow(() -> new AssertionError("no span " + attemptSpan));
      assertThat(attempt.getKind()).isEqualTo(SpanKind.CLIENT);
      SpanData server = spans.getFinishedSpanItems().stream()
          .filter(sp -> sp.getSpanId().equals(attempt.getParentSpanId())).findFirst().orElseThrow();
      assertThat(server.getKind()).isEqualTo(SpanKind.SERVER);
      assertThat(server.getTraceId()).isEqualTo(CLIENT_TRACE);
      assertThat(server.getParentSpanId()).as("the request's span: a child of the client's").isEqualTo(CLIENT_SPAN);
    });
    assertNothingLeaked();
    assertBackendSawOnlyTheProviderKey();
    assertThat(evil.getAllServeEvents()).as("evil backend").isEmpty();
  }

  @Test
  void nothingInARequestOrAnAnswerChangesWhereACallGoes() throws Exception {
    String evilBase = "http://127.0.0.1:" + evil.port() + "/v1";
    String[] key = {"Authorization", "Bearer " + GATEWAY_KEY};
    // body fields SDKs and other gateways know
    for (String field : List.of("api_base", "base_url", "baseURL", "endpoint", "url", "azure_endpoint")) {
      Resp r = call("POST", "/v1/chat/completions", "{\"model\":\"gw-model\",\"" + field + "\":\"" + evilBase
          + "\",\"api_key\":\"sk-evil\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", key);
      assertThat(r.status()).as(field).isEqualTo(200);
    }
    // a model name that looks like a place
    for (String model : List.of(evilBase, "127.0.0.1:" + evil.port(), "evil/gw-model", "../gw-model", "gw-model@evil")) {
      Resp r = call("POST", "/v1/chat/completions", "{\"model\":\"" + model
          + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", key);
      assertThat(r.status()).as(model).isIn(400, 403, 404);
      OpenAiErrors.assertShape(r.body(), model);
    }
    // Host and an absolute-form request target naming the evil server (raw: the JDK client forbids Host)
    for (String head : List.of("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:" + evil.port() + "\r\n",
        "POST http://127.0.0.1:" + evil.port() + "/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:" + evil.port() + "\r\n",
        "POST //127.0.0.1:" + evil.port() + "/v1/chat/completions HTTP/1.1\r\nHost: x\r\n")) {
      try (RawHttp conn = RawHttp.connect(gw.port())) {
        conn.send(head + "Authorization: Bearer " + GATEWAY_KEY + "\r\nContent-Type: application/json\r\n"
            + "Content-Length: " + CHAT.length() + "\r\n\r\n" + CHAT);
        RawHttp.Response r = conn.read();
        requestsSent++;
        transcript.add(r.text());
        assertThat(r.status()).as(head).isIn(200, 400, 404);
      }
    }
    // a backend answering with a redirect to the evil server: not followed
    Resp r = call("POST", "/v1/chat/completions", "{\"model\":\"gw-model\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"BACKEND_REDIRECT\"}]}", key);
    assertThat(r.status()).isGreaterThanOrEqualTo(500);
    assertThat(r.headers()).doesNotContainKey("location");
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> evil.getAllServeEvents().isEmpty());
    assertThat(backend.getAllServeEvents()).as("every call went to the configured backend").hasSizeGreaterThanOrEqualTo(7);
    assertNothingLeaked();
    assertBackendSawOnlyTheProviderKey();
  }

  // ---------------------------------------------------------------------------------------------------
  // a misconfigured operator: the key pasted where the variable's name belongs
  // ---------------------------------------------------------------------------------------------------

  /**
   * An operator pastes the provider key itself into {@code apiKeyEnv} (the name of the variable that
   * holds it), or the admin token into {@code adminTokenEnv}: the reload is refused (422), and the
   * refusal — the admin response and the log line shipped to the log pipeline — must not repeat the
   * secret (the config loader already takes that care for {@code sha256} values).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("pastedSecrets")
  void refusedReloadDoesNotRepeatASecretPastedIntoTheConfig(String field, String apiKeyEnv, String adminTokenEnv)
      throws Exception {
    Path yaml = dir.resolve("gateway.yaml");
    String good = Files.readString(yaml);
    try {
      Files.writeString(yaml, gatewayYaml(apiKeyEnv, adminTokenEnv));
      Resp r = call("POST", "/admin/reload", "", "Authorization", "Bearer " + ADMIN_TOKEN);
      assertThat(r.status()).as("reload refused").isEqualTo(422);
      OpenAiErrors.assertShape(r.body(), field);
      assertThat(r.body()).as("the refusal names the field").contains(field);
    } finally {
      Files.writeString(yaml, good);
    }
    assertThat(call("POST", "/admin/reload", "", "Authorization", "Bearer " + ADMIN_TOKEN).status()).isEqualTo(200);
    assertNothingLeaked();
  }

  static Stream<Arguments> pastedSecrets() {
    return Stream.of(Arguments.of("apiKeyEnv", PROVIDER_KEY, "GW_ADMIN_TOKEN"),
        Arguments.of("adminTokenEnv", "MOCK_PROVIDER_KEY", ADMIN_TOKEN));
  }

  // ---------------------------------------------------------------------------------------------------
  // helpers
  // ---------------------------------------------------------------------------------------------------

  /** The error code of an OpenAI error body, for the printed summary. */
  static final class RequestParserHolder {
    static String code(String body) {
      try {
        return dev.llmgw.core.ingress.RequestParser.JSON.readTree(body).path("error").path("code").asText();
      } catch (java.io.IOException e) {
        return "?";
      }
    }
  }

  record Resp(int status, Map<String, List<String>> headers, String body) {}

  Resp call(String method, String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + path))
        .timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    requestsSent++;
    StringBuilder sb = new StringBuilder(method).append(' ').append(path.replace(GATEWAY_KEY, "<sent key>"))
        .append(" -> ").append(r.statusCode()).append('\n');
    r.headers().map().forEach((k, vs) -> vs.forEach(v -> sb.append(k).append(": ").append(v).append('\n')));
    sb.append('\n').append(r.body());
    transcript.add(sb.toString());
    return new Resp(r.statusCode(), r.headers().map(), r.body());
  }

  /**
   * Scans everything captured in this test — responses, log events (once every request's access line
   * is in), the metrics exposition — for any fragment of any secret.
   */
  void assertNothingLeaked() {
    int expected = requestsSent;
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(logs.accessLineCount())
        .as("access lines (one per request)").isGreaterThanOrEqualTo(expected));
    List<String> haystack = new ArrayList<>(transcript);
    logs.events().forEach(e -> haystack.add("log: " + e));
    spans.getFinishedSpanItems().forEach(sp -> haystack.add("span: " + sp.getName() + " " + sp.getAttributes()
        + " " + sp.getEvents() + " " + sp.getSpanContext().getTraceState()));
    List<String> found = new ArrayList<>();
    for (String text : haystack) {
      String where = text.startsWith("log: ") ? "log line" : text.startsWith("scrape: ") ? "/metrics scrape"
          : text.startsWith("span: ") ? "span" : "response";
      for (Secret s : SECRETS) {
        String hit = null;
        for (String fragment : s.fragments()) {
          boolean hex = fragment.chars().allMatch(c -> Character.digit(c, 16) >= 0);
          if (hex ? text.toLowerCase(Locale.ROOT).contains(fragment.toLowerCase(Locale.ROOT)) : text.contains(fragment)) {
            hit = fragment;
            break;
          }
        }
        if (hit != null) {
          found.add(s.name() + " (piece '" + hit + "') in a " + where + ": " + excerpt(text, hit));
        }
      }
    }
    assertThat(found).as("secrets found in responses, logs or metrics (%d texts scanned)", haystack.size())
        .isEmpty();
  }

  static String excerpt(String text, String fragment) {
    int i = text.toLowerCase(Locale.ROOT).indexOf(fragment.toLowerCase(Locale.ROOT));
    int from = Math.max(0, i - 160);
    int to = Math.min(text.length(), i + fragment.length() + 100);
    return (from > 0 ? "..." : "") + text.substring(from, to) + (to < text.length() ? "..." : "");
  }

  /** Every backend request carried the provider key as its bearer, and none of the client's secrets. */
  void assertBackendSawOnlyTheProviderKey() {
    for (ServeEvent e : backend.getAllServeEvents()) {
      var req = e.getRequest();
      assertThat(req.getHeader("Authorization")).as(req.getUrl()).isEqualTo("Bearer " + PROVIDER_KEY);
      StringBuilder all = new StringBuilder(req.getUrl()).append('\n');
      for (HttpHeader h : req.getHeaders().all()) {
        if (!h.key().equalsIgnoreCase("Authorization")) {
          all.append(h.key()).append(": ").append(h.values()).append('\n');
        }
      }
      all.append(req.getBodyAsString());
      for (Secret s : SECRETS) {
        for (String fragment : s.fragments()) {
          assertThat(all.toString()).as("backend request carries no piece of the %s", s.name())
              .doesNotContain(fragment);
        }
      }
    }
  }
}
