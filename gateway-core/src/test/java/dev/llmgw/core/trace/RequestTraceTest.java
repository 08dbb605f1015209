package dev.llmgw.core.trace;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.config.TracingSettings;
import dev.llmgw.core.log.Outcome;
import dev.llmgw.core.log.RequestLogBuilder;
import dev.llmgw.core.route.ModelRouter;
import dev.llmgw.core.route.RoutePlan;
import dev.llmgw.testkit.TestConfigs;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The request's span and its stages without the exchange: stages a request never finished end with
 * it, bounded names and values, the sinks running with the span current, the sampling ratio.
 */
class RequestTraceTest {
  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private final Tracing tracing = Tracing.of(SimpleSpanProcessor.create(spans), TracingSettings.off());

  @AfterEach
  void close() {
    tracing.close();
  }

  static AttributeKey<String> key(String name) {
    return AttributeKey.stringKey(name);
  }

  SpanData named(String name) {
    return spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void aStageTheRequestNeverFinishedEndsWithItAsFailed() {
    RequestTrace trace = tracing.startRequest("POST", "/v1/chat/completions", Map.<String, String>of()::get);
    RequestLogBuilder log = new RequestLogBuilder("rid-1", "POST", "/v1/chat/completions", "127.0.0.1",
        trace.around(l -> {}));
    RoutePlan pinned = new ModelRouter(TestConfigs.oneBackend("http://127.0.0.1:9/v1")).plan("gw-model");
    RoutePlan plan = new RoutePlan("trivial", "short-chat", pinned.candidates()).withSignal("semantic");
    TraceStage classify = trace.classify();
    classify.waiting();
    assertThat(classify.routed(plan)).isSameAs(plan);
    trace.admit(); // refused: never ended by its caller
    log.responded(429, 10).error("rate_limit_exceeded");
    log.end(Outcome.REFUSED);

    assertThat(spans.getFinishedSpanItems()).hasSize(3);
    SpanData request = named("POST /v1/chat/completions");
    SpanData admit = named("gateway.admit");
    assertThat(named("gateway.classify").getAttributes().asMap())
        .containsEntry(AttributeKey.booleanKey("gateway.classify.async"), true)
        .containsEntry(key("gateway.tier"), "trivial").containsEntry(key("gateway.rule"), "short-chat")
        .containsEntry(key("gateway.signal"), "semantic")
        .doesNotContainKey(key("error.type"));
    assertThat(admit.getParentSpanId()).isEqualTo(request.getSpanId());
    assertThat(admit.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(admit.getAttributes().get(key("error.type"))).isEqualTo("rate_limit_exceeded");
    assertThat(request.getAttributes().asMap()).containsEntry(key("gateway.outcome"), "refused")
        .containsEntry(key("error.type"), "rate_limit_exceeded")
        .containsEntry(AttributeKey.longKey("http.response.status_code"), 429L);
    assertThat(request.getStatus().getStatusCode()).as("a 4xx refusal is not a server error").isEqualTo(StatusCode.UNSET);
  }

  @Test
  void aCacheHitSaysSoWithTheBackendThatAnsweredAndTheMoneySaved() {
    RequestTrace trace = tracing.startRequest("POST", "/v1/chat/completions", Map.<String, String>of()::get);
    RequestLogBuilder log = new RequestLogBuilder("rid-2", "POST", "/v1/chat/completions", "127.0.0.1",
        trace.around(l -> {}));
    log.cacheHit("local", "small", 0.25).responded(200, 10);
    log.end(Outcome.SERVED);

    assertThat(named("POST /v1/chat/completions").getAttributes().asMap())
        .containsEntry(key("gateway.cache"), "hit")
        .containsEntry(key("gateway.backend"), "local").containsEntry(key("gateway.model_alias"), "small")
        .containsEntry(AttributeKey.doubleKey("gateway.cache.saved_usd"), 0.25)
        .doesNotContainKey(AttributeKey.longKey("gateway.attempts"));
  }

  @Test
  void probesAndScrapesAreNotTraced() {
    for (String path : List.of("/healthz", "/readyz", "/metrics")) {
      RequestTrace trace = tracing.startRequest("GET", path, Map.<String, String>of()::get);
      assertThat(trace).isSameAs(RequestTrace.NONE);
      new RequestLogBuilder("rid", "GET", path, "127.0.0.1", trace.around(l -> {})).responded(200, 2)
          .end(Outcome.SERVED);
    }
    RequestTrace models = tracing.startRequest("GET", "/v1/models", Map.<String, String>of()::get);
    new RequestLogBuilder("rid", "GET", "/v1/models", "127.0.0.1", models.around(l -> {})).end(Outcome.SERVED);
    assertThat(spans.getFinishedSpanItems()).extracting(SpanData::getName).containsExactly("GET /v1/models");
  }

  @Test
  void clientSuppliedMethodsAndPathsNeverNameASpan() {
    for (String[] mp : List.of(new String[] {"BREW", "/v1/chat/completions"}, new String[] {"GET", "/secret/sk-abc"},
        new String[] {"GET", "/v1/models/my-model"})) {
      RequestTrace trace = tracing.startRequest(mp[0], mp[1], null);
      new RequestLogBuilder("rid", mp[0], mp[1], "127.0.0.1", trace.around(l -> {})).end(Outcome.INVALID);
    }
    assertThat(spans.getFinishedSpanItems()).extracting(SpanData::getName)
        .containsExactly("_OTHER /v1/chat/completions", "GET", "GET /v1/models/{model}");
    assertThat(spans.getFinishedSpanItems()).allSatisfy(s -> assertThat(s.getAttributes().toString())
        .doesNotContain("sk-abc").doesNotContain("BREW").doesNotContain("my-model"));
  }

  @Test
  void theSinksRunWithTheRequestsSpanCurrentAfterItEnded() {
    RequestTrace trace = tracing.startRequest("GET", "/v1/models", null);
    List<String> seen = new ArrayList<>();
    RequestLogBuilder log = new RequestLogBuilder("rid", "GET", "/v1/models", "127.0.0.1", trace.around(l -> {
      seen.add(Span.current().getSpanContext().getSpanId());
      seen.add(String.valueOf(spans.getFinishedSpanItems().size()));
    }));
    log.end(Outcome.SERVED);
    log.end(Outcome.FAILED); // ignored: the record and its span end once
    assertThat(spans.getFinishedSpanItems()).hasSize(1);
    assertThat(seen).containsExactly(spans.getFinishedSpanItems().get(0).getSpanId(), "1");
    assertThat(Span.current().getSpanContext().isValid()).as("the scope is closed afterwards").isFalse();
  }

  @Test
  void aRatioOfZeroRecordsNoNewTraceButFollowsASampledClient() {
    try (Tracing none = Tracing.of(SimpleSpanProcessor.create(spans), new TracingSettings(true,
        TracingSettings.DEFAULT_ENDPOINT, Map.of(), 0.0, "t"))) {
      RequestTrace fresh = none.startRequest("GET", "/v1/models", null);
      new RequestLogBuilder("a", "GET", "/v1/models", "-", fresh.around(l -> {})).end(Outcome.SERVED);
      assertThat(spans.getFinishedSpanItems()).isEmpty();
      RequestTrace continued = none.startRequest("GET", "/v1/models",
          Map.of("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")::get);
      new RequestLogBuilder("b", "GET", "/v1/models", "-", continued.around(l -> {})).end(Outcome.SERVED);
      assertThat(spans.getFinishedSpanItems()).singleElement()
          .satisfies(s -> assertThat(s.getTraceId()).isEqualTo("0af7651916cd43dd8448eb211c80319c"));
    }
  }
}
