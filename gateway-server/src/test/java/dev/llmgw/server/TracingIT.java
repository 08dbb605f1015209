package dev.llmgw.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.sun.net.httpserver.HttpServer;
import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.SnapshotLoader;
import dev.llmgw.core.upstream.Transport;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tracing end to end, with the export a collector would see: a gateway with {@code tracing} on in
 * gateway.yaml sends its spans in batches over OTLP/HTTP (protobuf, the JDK HttpClient sender) to a
 * receiver on 127.0.0.1 that decodes every POST /v1/traces with the OTLP protobuf classes. A request
 * that falls back from a 429 to the local backend is one trace continuing the client's, with
 * classification, admission and two attempt spans; the backends got the gateway's traceparent; a
 * streamed request's span lasts to its last byte; a malformed traceparent starts a new trace (200);
 * the export carries the collector's auth header from the environment but no key, prompt or answer;
 * the latency histograms carry the trace id as an exemplar; spans still buffered are sent on stop.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TracingIT {
  static final String CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  static final String CLIENT_SPAN = "00f067aa0ba902b7";
  static final String PROVIDER_KEY = "sk-remote-SENTINEL-7c1d9e0f2a3b";
  static final String OTLP_AUTH = "Bearer otlp-token-SENTINEL-5566";
  static final String PROMPT = "XYZZY-PROMPT what is the plan";
  static final String ANSWER = "XYZZY-ANSWER the plan";
  static final String CHAT = "{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"" + PROMPT + "\"}]}";
  static final String STREAM = "{\"model\":\"local\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\""
      + PROMPT + "\"}]}";
  static final String OK_JSON = "{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"local-model\","
      + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + ANSWER + "\"},"
      + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4,\"total_tokens\":13}}";
  static final String SSE = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
      + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + ANSWER + "\"},\"finish_reason\":null}]}\n\n"
      + "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],"
      + "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4,\"total_tokens\":13}}\n\ndata: [DONE]\n\n";

  @TempDir
  static Path dir;
  WireMockServer remote;
  WireMockServer local;
  HttpServer otlp;
  GatewayServer gw;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  /** Every export the receiver got, decoded. */
  final List<Export> exports = new CopyOnWriteArrayList<>();

  record Export(String authorization, String contentType, byte[] body, ExportTraceServiceRequest request) {}

  /** One exported span, ids in hex. */
  record Spn(String traceId, String spanId, String parentId, String name, String kind, Map<String, Object> attributes,
      List<String> events, long start, long end, Map<String, Long> eventTimes) {}

  @BeforeAll
  void start() throws Exception {
    remote = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    local = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    remote.start();
    local.start();
    remote.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(429)
        .withHeader("Content-Type", "application/json")
        .withBody("{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}")));
    local.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json").withBody(OK_JSON)));
    local.stubFor(post("/v1/chat/completions").atPriority(1)
        .withRequestBody(com.github.tomakehurst.wiremock.client.WireMock.containing("\"stream\":true"))
        .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "text/event-stream").withBody(SSE)
            .withChunkedDribbleDelay(4, 600)));
    otlp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    otlp.createContext("/v1/traces", ex -> {
      byte[] body = ex.getRequestBody().readAllBytes();
      exports.add(new Export(ex.getRequestHeaders().getFirst("Authorization"),
          ex.getRequestHeaders().getFirst("Content-Type"), body, ExportTraceServiceRequest.parseFrom(body)));
      ex.getResponseHeaders().set("Content-Type", "application/x-protobuf");
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    otlp.start();
    gw = gateway();
  }

  GatewayServer gateway() throws Exception {
    Files.writeString(dir.resolve("gateway.yaml"), """
        listener: { host: 127.0.0.1, port: 0 }
        backends:
          remote:
            baseUrl: http://127.0.0.1:%d/v1
            apiKeyEnv: REMOTE_KEY
            models: [remote-model]
            timeouts: { connect: 1s, firstByte: 5s, idle: 5s, total: 10s }
            resilience:
              breaker: { window: 1000, minimumCalls: 1000 }
              retry: { maxAttempts: 1 }
          local:
            baseUrl: http://127.0.0.1:%d/v1
            models: [local-model]
        models:
          smart: { backend: remote, model: remote-model, fallbacks: [local] }
          local: { backend: local, model: local-model }
        auth: { open: true }
        state: { store: memory }
        tracing:
          enabled: true
          endpoint: http://127.0.0.1:%d/v1/traces
          protocol: http/protobuf
          headersEnv: { Authorization: OTLP_AUTH }
          serviceName: tracing-it
        """.formatted(remote.port(), local.port(), otlp.getAddress().getPort()));
    Files.writeString(dir.resolve("routing.yaml"), """
        version: 1
        defaultTier: trivial
        tiers:
          trivial: { targets: [smart, local] }
          high-stakes: { targets: [smart, local] }
        rules:
          - name: legal
            tier: high-stakes
            when:
              lastUserMessage: { keywords: [contract] }
        """);
    Map<String, String> env = Map.of("REMOTE_KEY", PROVIDER_KEY, "OTLP_AUTH", OTLP_AUTH);
    GatewaySnapshot s = SnapshotLoader.load(dir, env, 1);
    return new GatewayServer(s, Transport.best(), 2, dev.llmgw.core.log.RequestLogListener.NOOP).start();
  }

  @AfterAll
  void stop() {
    if (gw != null) {
      gw.stop(Duration.ofMillis(200));
    }
    otlp.stop(0);
    remote.stop();
    local.stop();
  }

  HttpResponse<String> call(String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
        .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Every span exported so far. */
  List<Spn> exported() {
    List<Spn> all = new ArrayList<>();
    HexFormat hex = HexFormat.of();
    for (Export e : exports) {
      for (ResourceSpans rs : e.request().getResourceSpansList()) {
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          for (var s : ss.getSpansList()) {
            Map<String, Object> attrs = new LinkedHashMap<>();
            for (KeyValue kv : s.getAttributesList()) {
              attrs.put(kv.getKey(), value(kv.getValue()));
            }
            Map<String, Long> eventTimes = new LinkedHashMap<>();
            s.getEventsList().forEach(ev -> eventTimes.put(ev.getName(), ev.getTimeUnixNano()));
            all.add(new Spn(hex.formatHex(s.getTraceId().toByteArray()), hex.formatHex(s.getSpanId().toByteArray()),
                hex.formatHex(s.getParentSpanId().toByteArray()), s.getName(), s.getKind().name(), attrs,
                List.copyOf(eventTimes.keySet()), s.getStartTimeUnixNano(), s.getEndTimeUnixNano(), eventTimes));
          }
        }
      }
    }
    return all;
  }

  static Object value(AnyValue v) {
    return switch (v.getValueCase()) {
      case STRING_VALUE -> v.getStringValue();
      case INT_VALUE -> v.getIntValue();
      case BOOL_VALUE -> v.getBoolValue();
      case DOUBLE_VALUE -> v.getDoubleValue();
      default -> v.toString();
    };
  }

  /** The spans of {@code traceId}, once its server span (the last to end) has been exported. */
  List<Spn> trace(String traceId, int count) {
    List<List<Spn>> found = new ArrayList<>();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      List<Spn> mine = exported().stream().filter(s -> s.traceId().equals(traceId)).toList();
      assertThat(mine).hasSize(count);
      found.add(mine);
    });
    return found.get(found.size() - 1);
  }

  static Spn named(List<Spn> spans, String name) {
    return spans.stream().filter(s -> s.name().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no span " + name + " in " + spans.stream().map(Spn::name).toList()));
  }

  @Test
  void aFallbackFromA429IsOneTraceExportedOverOtlp() throws Exception {
    HttpResponse<String> r = call(CHAT, "traceparent", "00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains(ANSWER);
    assertThat(r.headers().firstValue("x-gateway-fallback")).hasValue("remote=rate_limited");

    List<Spn> spans = trace(CLIENT_TRACE, 5);
    Spn request = named(spans, "POST /v1/chat/completions");
    Spn classify = named(spans, "gateway.classify");
    Spn admit = named(spans, "gateway.admit");
    Spn first = named(spans, "chat remote-model");
    Spn second = named(spans, "chat local-model");
    assertThat(request.kind()).isEqualTo("SPAN_KIND_SERVER");
    assertThat(request.parentId()).as("continues the client's trace").isEqualTo(CLIENT_SPAN);
    for (Spn child : List.of(classify, admit, first, second)) {
      assertThat(child.parentId()).as(child.name()).isEqualTo(request.spanId());
      assertThat(child.start()).as(child.name()).isGreaterThanOrEqualTo(request.start());
      assertThat(child.end()).as(child.name()).isLessThanOrEqualTo(request.end());
    }
    assertThat(classify.attributes()).containsEntry("gateway.tier", "trivial").containsEntry("gateway.rule", "default");
    assertThat(classify.end()).isLessThanOrEqualTo(admit.start());
    assertThat(admit.end()).isLessThanOrEqualTo(first.start());
    assertThat(first.kind()).isEqualTo("SPAN_KIND_CLIENT");
    assertThat(first.attributes()).containsEntry("gateway.backend", "remote")
        .containsEntry("http.response.status_code", 429L).containsEntry("gateway.failure_class", "rate_limited")
        .containsEntry("error.type", "rate_limited").containsEntry("server.address", "127.0.0.1")
        .containsEntry("gen_ai.request.model", "remote-model");
    assertThat(second.attributes()).containsEntry("gateway.backend", "local")
        .containsEntry("gateway.attempt.kind", "fallback").containsEntry("gateway.fallback.reason", "rate_limited")
        .containsEntry("http.response.status_code", 200L).containsEntry("gateway.attempt.outcome", "ok");
    assertThat(request.attributes()).containsEntry("gen_ai.operation.name", "chat")
        .containsEntry("gen_ai.request.model", "auto").containsEntry("gen_ai.response.model", "local-model")
        .containsEntry("gen_ai.usage.input_tokens", 9L).containsEntry("gen_ai.usage.output_tokens", 4L)
        .containsEntry("http.response.status_code", 200L).containsEntry("gateway.tier", "trivial")
        .containsEntry("gateway.fallbacks", 1L).containsEntry("gateway.outcome", "ok");
    assertThat(request.events()).containsExactly("gateway.first_byte");

    // each backend saw its own attempt as the parent, in the client's trace
    assertThat(remote.getAllServeEvents().get(0).getRequest().getHeader("traceparent"))
        .isEqualTo("00-" + CLIENT_TRACE + "-" + first.spanId() + "-01");
    assertThat(local.getAllServeEvents().get(0).getRequest().getHeader("traceparent"))
        .isEqualTo("00-" + CLIENT_TRACE + "-" + second.spanId() + "-01");

    // the export: protobuf, the collector's credentials from the environment; no key, prompt or answer
    assertThat(exports).allSatisfy(e -> {
      assertThat(e.contentType()).isEqualTo("application/x-protobuf");
      assertThat(e.authorization()).isEqualTo(OTLP_AUTH);
      String raw = new String(e.body(), StandardCharsets.ISO_8859_1);
      assertThat(raw).doesNotContain(PROVIDER_KEY.substring(0, 12)).doesNotContain(PROVIDER_KEY.substring(14))
          .doesNotContain("otlp-token").doesNotContain("XYZZY");
    });
    assertThat(exports.get(0).request().getResourceSpans(0).getResource().getAttributesList())
        .anySatisfy(kv -> {
          assertThat(kv.getKey()).isEqualTo("service.name");
          assertThat(kv.getValue().getStringValue()).isEqualTo("tracing-it");
        });

    // the request's trace id is an exemplar of the duration histogram (OpenMetrics exposition)
    HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port()
        + "/metrics")).header("Accept", "application/openmetrics-text; version=1.0.0").build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.headers().firstValue("content-type")).hasValueSatisfying(ct ->
        assertThat(ct).startsWith("application/openmetrics-text"));
    assertThat(metrics.body().lines().filter(l -> l.startsWith("gateway_request_duration_seconds_bucket")
        && l.contains("trace_id=\"" + CLIENT_TRACE + "\""))).isNotEmpty();
  }

  @Test
  void aStreamedRequestsSpanLastsToItsLastByte() throws Exception {
    String trace = "5bf92f3577b34da6a3ce929d0e0e4737";
    HttpResponse<String> r = call(STREAM, "traceparent", "00-" + trace + "-" + CLIENT_SPAN + "-01");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains(ANSWER).endsWith("data: [DONE]\n\n");

    List<Spn> spans = trace(trace, 4);
    Spn request = named(spans, "POST /v1/chat/completions");
    Spn attempt = named(spans, "chat local-model");
    long firstByte = request.eventTimes().get("gateway.first_byte");
    // the backend dribbles its body over 600 ms: the span ends with the last byte, well after the first
    assertThat(request.end() - firstByte).isGreaterThan(Duration.ofMillis(300).toNanos());
    assertThat(request.end()).isGreaterThanOrEqualTo(attempt.end());
    assertThat(request.attributes()).containsEntry("gateway.stream", true).containsEntry("gateway.outcome", "ok")
        .containsEntry("gen_ai.usage.output_tokens", 4L).containsEntry("gen_ai.request.model", "local");
  }

  @Test
  void aMalformedTraceparentStartsANewTraceAndIsNeverAnError() throws Exception {
    String bad = "00-" + CLIENT_TRACE.substring(0, 30) + "zz-" + CLIENT_SPAN + "-01";
    HttpResponse<String> r = call(CHAT.replace("auto", "local"), "traceparent", bad, "x-request-id", "rid-malformed");
    assertThat(r.statusCode()).isEqualTo(200);
    String forwarded = local.getAllServeEvents().stream().map(e -> e.getRequest())
        .filter(q -> "rid-malformed".equals(q.getHeader("x-request-id"))).findFirst().orElseThrow()
        .getHeader("traceparent");
    // sampled (with the random-trace-id flag of a trace the gateway started)
    assertThat(forwarded).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[13]").doesNotContain(CLIENT_TRACE.substring(0, 30));
    List<Spn> spans = trace(forwarded.substring(3, 35), 4);
    Spn request = named(spans, "POST /v1/chat/completions");
    assertThat(request.parentId()).as("a new trace: no parent").isEmpty();
    assertThat(request.attributes()).containsEntry("gateway.request_id", "rid-malformed");
  }

  @Test
  void spansStillBufferedAreExportedOnStop() throws Exception {
    GatewayServer second = gateway();
    String trace = "6bf92f3577b34da6a3ce929d0e0e4738";
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + second.port()
          + "/v1/chat/completions")).POST(HttpRequest.BodyPublishers.ofString(CHAT.replace("auto", "local")))
          .header("traceparent", "00-" + trace + "-" + CLIENT_SPAN + "-01").build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
    } finally {
      second.stop(Duration.ofMillis(200)); // well within the batch's 5 s delay: the stop flushes
    }
    assertThat(exported().stream().filter(s -> s.traceId().equals(trace))).extracting(Spn::name)
        .contains("POST /v1/chat/completions", "chat local-model");
  }

  @Test
  void aReloadThatChangesTracingSaysItTakesEffectAtRestartWithoutPrintingItsHeaders() throws Exception {
    GatewayServer second = gateway();
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ConfigReloader.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
        new ch.qos.logback.core.read.ListAppender<>();
    seen.start();
    logger.addAppender(seen);
    try {
      Files.writeString(dir.resolve("gateway.yaml"), Files.readString(dir.resolve("gateway.yaml"))
          .replace("serviceName: tracing-it", "serviceName: tracing-it\n  sampleRatio: 0.25"));
      Map<String, String> env = Map.of("REMOTE_KEY", PROVIDER_KEY, "OTLP_AUTH", OTLP_AUTH + "-rotated");
      ConfigReloader.Result r = new ConfigReloader(dir, () -> env, second,
          new io.micrometer.core.instrument.simple.SimpleMeterRegistry()).reload("test").get(10, TimeUnit.SECONDS);
      assertThat(r.applied()).as(String.valueOf(r.problems())).isTrue();
      assertThat(seen.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
          .anySatisfy(m -> assertThat(m).contains("tracing section changed").contains("sample ratio 1.0 -> 0.25")
              .contains("endpoint or headers").contains("next restart"))
          .noneSatisfy(m -> assertThat(m).contains(OTLP_AUTH));
    } finally {
      logger.detachAppender(seen);
      second.stop(Duration.ofMillis(200)); // the next gateway() writes its files afresh
    }
  }
}
