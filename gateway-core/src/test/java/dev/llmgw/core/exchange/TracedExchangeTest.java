package dev.llmgw.core.exchange;

import static dev.llmgw.core.exchange.ExchangeFixture.CHAT;
import static dev.llmgw.core.exchange.ExchangeFixture.CHAT_STREAM;
import static dev.llmgw.core.exchange.ExchangeFixture.head;
import static dev.llmgw.core.exchange.ExchangeFixture.retries;
import static dev.llmgw.core.exchange.ExchangeFixture.sseEvent;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.config.Failover;
import dev.llmgw.core.config.TracingSettings;
import dev.llmgw.core.log.Outcome;
import dev.llmgw.core.trace.RequestTrace;
import dev.llmgw.core.trace.Tracing;
import dev.llmgw.testkit.TestConfigs;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.ReferenceCountUtil;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The spans of a proxied request, on the exchange's {@code EmbeddedChannel} fixture with the SDK's
 * in-memory exporter: the request's server span continues the client's trace, each backend attempt
 * is a client span under it with its own {@code traceparent} sent to the backend, a fallback says
 * why, a stream's span ends with its last byte, and no attribute carries a secret or any text of the
 * prompt or the answer.
 */
class TracedExchangeTest {
  static final String CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c";
  static final String CLIENT_SPAN = "b7ad6b7169203331";
  static final String CLIENT_TRACEPARENT = "00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01";

  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private final Tracing tracing = Tracing.of(SimpleSpanProcessor.create(spans), TracingSettings.off());
  private ExchangeFixture fx;

  @AfterEach
  void close() {
    if (fx != null) {
      fx.close();
    }
    tracing.close();
  }

  private RequestTrace startRequest(Map<String, String> headers) {
    Function<String, String> get = headers::get;
    RequestTrace trace = tracing.startRequest("POST", "/v1/chat/completions", get);
    trace.requested("chat_completions", "smart");
    return trace;
  }

  /** The upstream request sent on {@code backend} (released here): its traceparent header. */
  static String upstreamTraceparent(EmbeddedChannel backend) {
    Object o = backend.readOutbound();
    try {
      assertThat(o).isInstanceOf(FullHttpRequest.class);
      return ((FullHttpRequest) o).headers().get("traceparent");
    } finally {
      ReferenceCountUtil.release(o);
    }
  }

  static SpanData named(List<SpanData> all, String name) {
    return all.stream().filter(s -> s.getName().equals(name)).findFirst().orElseThrow(() ->
        new AssertionError("no span " + name + " in " + all.stream().map(SpanData::getName).toList()));
  }

  @Test
  void aFallbackFromA429ToTheLocalModelIsOneTraceWithASpanPerAttempt() {
    fx = new ExchangeFixture(retries(1), Failover.defaults());
    RequestTrace trace = startRequest(Map.of("traceparent", CLIENT_TRACEPARENT));
    fx.exchange(fx.plan("smart"), CHAT, trace).start();

    EmbeddedChannel remote = fx.connections.pool("remote").last();
    String remoteParent = upstreamTraceparent(remote);
    fx.answerError(remote, 429, "rate limited", "Retry-After", "30"); // over the cap: moves on at once
    EmbeddedChannel local = fx.connections.pool("local").last();
    String localParent = upstreamTraceparent(local);
    fx.answerJson(local, "local");
    assertThat(fx.received()).startsWith("HEAD 200").endsWith("END");
    assertThat(fx.log().outcome()).isEqualTo(Outcome.SERVED);

    List<SpanData> all = spans.getFinishedSpanItems();
    assertThat(all).hasSize(3);
    SpanData request = named(all, "POST /v1/chat/completions");
    SpanData first = named(all, "chat remote-model");
    SpanData second = named(all, "chat local-model");
    // one trace: the client's; the request's span is the child of the client's span
    assertThat(all).allSatisfy(s -> assertThat(s.getTraceId()).isEqualTo(CLIENT_TRACE));
    assertThat(request.getKind()).isEqualTo(SpanKind.SERVER);
    assertThat(request.getParentSpanId()).isEqualTo(CLIENT_SPAN);
    assertThat(request.getParentSpanContext().isRemote()).isTrue();
    for (SpanData attempt : List.of(first, second)) {
      assertThat(attempt.getKind()).isEqualTo(SpanKind.CLIENT);
      assertThat(attempt.getParentSpanId()).isEqualTo(request.getSpanId());
    }
    // each backend got its own attempt's context, never the client's
    assertThat(remoteParent).isEqualTo("00-" + CLIENT_TRACE + "-" + first.getSpanId() + "-01");
    assertThat(localParent).isEqualTo("00-" + CLIENT_TRACE + "-" + second.getSpanId() + "-01");

    assertThat(first.getAttributes().asMap()).containsEntry(key("gateway.backend"), "remote")
        .containsEntry(key("gateway.attempt.kind"), "first")
        .containsEntry(AttributeKey.longKey("http.response.status_code"), 429L)
        .containsEntry(key("gateway.failure_class"), "rate_limited")
        .containsEntry(key("error.type"), "rate_limited")
        .containsEntry(key("gateway.attempt.outcome"), "failed")
        .containsEntry(key("gen_ai.request.model"), "remote-model")
        .containsEntry(key("gen_ai.provider.name"), "remote")
        .containsEntry(key("server.address"), "remote.test")
        .containsEntry(AttributeKey.longKey("server.port"), 8080L);
    assertThat(first.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(second.getAttributes().asMap()).containsEntry(key("gateway.backend"), "local")
        .containsEntry(key("gateway.attempt.kind"), "fallback")
        .containsEntry(key("gateway.fallback.reason"), "rate_limited")
        .containsEntry(AttributeKey.longKey("http.response.status_code"), 200L)
        .containsEntry(key("gateway.attempt.outcome"), "ok")
        .containsEntry(AttributeKey.longKey("gateway.attempt.number"), 2L)
        .doesNotContainKey(key("error.type"));
    assertThat(request.getAttributes().asMap()).containsEntry(key("gen_ai.operation.name"), "chat")
        .containsEntry(key("gen_ai.request.model"), "smart")
        .containsEntry(key("gen_ai.response.model"), "local-model")
        .containsEntry(AttributeKey.longKey("gen_ai.usage.input_tokens"), 11L)
        .containsEntry(AttributeKey.longKey("gen_ai.usage.output_tokens"), 3L)
        .containsEntry(AttributeKey.longKey("http.response.status_code"), 200L)
        .containsEntry(key("gateway.outcome"), "ok")
        .containsEntry(key("gateway.backend"), "local")
        .containsEntry(AttributeKey.longKey("gateway.attempts"), 2L)
        .containsEntry(AttributeKey.longKey("gateway.fallbacks"), 1L)
        .containsEntry(key("gateway.request_id"), "rid-1")
        .doesNotContainKey(key("error.type"));
    assertThat(request.getEvents()).extracting(e -> e.getName()).containsExactly("gateway.first_byte");
    assertThat(request.getEvents().get(0).getEpochNanos())
        .isBetween(second.getStartEpochNanos(), request.getEndEpochNanos());
    assertNoSecretOrText(all);
    fx.assertAllReleased();
  }

  @Test
  void aStreamedRequestsSpanEndsAtItsLastByte() {
    fx = new ExchangeFixture(retries(1), Failover.defaults());
    RequestTrace trace = startRequest(Map.of());
    fx.exchange(fx.plan("smart"), CHAT_STREAM, trace).start();
    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamTraceparent(remote)).startsWith("00-");

    remote.writeInbound(head(200, "text/event-stream"), fx.chunk(sseEvent("Hel")));
    remote.writeInbound(fx.chunk(sseEvent("lo")));
    assertThat(fx.received()).contains("HEAD 200");
    assertThat(spans.getFinishedSpanItems()).as("mid-stream: nothing has ended").isEmpty();

    remote.writeInbound(fx.last("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
        + "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_tokens\":13}}\n\ndata: [DONE]\n\n"));
    assertThat(fx.received()).endsWith("END");
    assertThat(fx.log().outcome()).isEqualTo(Outcome.SERVED);

    List<SpanData> all = spans.getFinishedSpanItems();
    assertThat(all).hasSize(2);
    SpanData request = named(all, "POST /v1/chat/completions");
    SpanData attempt = named(all, "chat remote-model");
    assertThat(request.getParentSpanContext().isValid()).as("no client context: a new trace").isFalse();
    assertThat(request.hasEnded()).isTrue();
    assertThat(request.getEndEpochNanos()).isGreaterThanOrEqualTo(attempt.getEndEpochNanos());
    assertThat(request.getAttributes().asMap()).containsEntry(AttributeKey.longKey("gen_ai.usage.output_tokens"), 2L)
        .containsEntry(key("gateway.outcome"), "ok");
    assertNoSecretOrText(all);
    fx.assertAllReleased();
  }

  @Test
  void aStreamCutShortOfDoneIsAFailedAttempt() {
    fx = new ExchangeFixture(retries(1), Failover.defaults());
    RequestTrace trace = startRequest(Map.of());
    fx.exchange(fx.plan("smart"), CHAT_STREAM, trace).start();
    EmbeddedChannel remote = fx.connections.pool("remote").last();
    upstreamTraceparent(remote);

    remote.writeInbound(head(200, "text/event-stream"), fx.chunk(sseEvent("Hel")));
    remote.writeInbound(fx.last(sseEvent("lo"))); // the backend ends its body without [DONE]
    assertThat(fx.log().outcome()).isEqualTo(Outcome.STREAM_CUT);

    List<SpanData> all = spans.getFinishedSpanItems();
    SpanData attempt = named(all, "chat remote-model");
    assertThat(attempt.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(attempt.getAttributes().asMap()).containsEntry(key("gateway.attempt.outcome"), "failed")
        .containsKey(key("gateway.failure_class"));
    assertThat(named(all, "POST /v1/chat/completions").getAttributes().asMap())
        .containsEntry(key("gateway.outcome"), "stream_error");
    fx.assertAllReleased();
  }

  @Test
  void aMalformedTraceparentStartsANewTrace() {
    for (String bad : List.of("garbage", "00-" + CLIENT_TRACE + "-" + CLIENT_SPAN, "00-00000000000000000000000000000000-"
        + CLIENT_SPAN + "-01", "ff-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01", "00-" + CLIENT_TRACE.toUpperCase()
        + "-" + CLIENT_SPAN + "-01")) {
      spans.reset();
      RequestTrace trace = startRequest(Map.of("traceparent", bad, "tracestate", "k=v"));
      var log = new dev.llmgw.core.log.RequestLogBuilder("rid-x", "POST", "/v1/chat/completions", "127.0.0.1",
          trace.around(l -> {}));
      log.responded(200, 2);
      log.end(Outcome.SERVED);
      SpanData request = spans.getFinishedSpanItems().get(0);
      assertThat(request.getParentSpanContext().isValid()).as(bad).isFalse();
      assertThat(request.getTraceId()).as(bad).isNotEqualTo(CLIENT_TRACE).matches("[0-9a-f]{32}");
      assertThat(request.getSpanContext().getTraceState().isEmpty()).as(bad).isTrue();
    }
  }

  @Test
  void tracingOffCostsNoSpansAndSendsNoTraceparent() {
    fx = new ExchangeFixture(retries(1), Failover.defaults());
    RequestTrace off = Tracing.OFF.startRequest("POST", "/v1/chat/completions", Map.of("traceparent",
        CLIENT_TRACEPARENT)::get);
    assertThat(off).isSameAs(RequestTrace.NONE);
    fx.exchange(fx.plan("smart"), CHAT, off).start();
    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamTraceparent(remote)).isNull();
    fx.answerJson(remote, "remote");
    assertThat(fx.log().outcome()).isEqualTo(Outcome.SERVED);
    assertThat(spans.getFinishedSpanItems()).isEmpty();
    fx.assertAllReleased();
  }

  static AttributeKey<String> key(String name) {
    return AttributeKey.stringKey(name);
  }

  /** No attribute value holds the provider key (or a piece of it), the prompt or the answer's text. */
  static void assertNoSecretOrText(List<SpanData> all) {
    List<String> values = new ArrayList<>();
    for (SpanData s : all) {
      s.getAttributes().forEach((k, v) -> values.add(k.getKey() + "=" + v));
      s.getEvents().forEach(e -> e.getAttributes().forEach((k, v) -> values.add(k.getKey() + "=" + v)));
    }
    assertThat(values).isNotEmpty().allSatisfy(v -> assertThat(v)
        .doesNotContain(TestConfigs.PROVIDER_KEY.substring(0, 8))
        .doesNotContain(TestConfigs.PROVIDER_KEY.substring(TestConfigs.PROVIDER_KEY.length() - 8))
        .doesNotContain("Say hello").doesNotContain("hello from").doesNotContain("Hel\"").doesNotContain("lo\""));
  }
}
