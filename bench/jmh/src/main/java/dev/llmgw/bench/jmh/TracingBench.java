package dev.llmgw.bench.jmh;

import dev.llmgw.core.config.ConfigLoader;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.TracingSettings;
import dev.llmgw.core.log.Outcome;
import dev.llmgw.core.log.RequestLogBuilder;
import dev.llmgw.core.log.RequestLogListener;
import dev.llmgw.core.route.ModelRouter;
import dev.llmgw.core.route.Route;
import dev.llmgw.core.route.RoutePlan;
import dev.llmgw.core.trace.AttemptTrace;
import dev.llmgw.core.trace.RequestTrace;
import dev.llmgw.core.trace.Tracing;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.net.URI;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What tracing adds to one proxied request, end to end on the trace's side: the server span started
 * from the client's {@code traceparent}, the classification and admission spans, one attempt span with
 * its {@code traceparent} injected, status, and the request's end (record ended, span ended with its
 * attributes, the sinks told with the span current). {@code off}: {@link Tracing#OFF}, what the
 * gateway runs with by default; {@code on}: the SDK, every span sampled and handed to a
 * {@link BatchSpanProcessor} over an exporter that drops them (export cost is off the request path);
 * {@code unsampled}: the SDK with sample ratio 0 and no client context. The record's own cost is in
 * every mode. Nothing here is per response chunk: tracing does no per-chunk work.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TracingBench {

  @Param({"off", "on", "unsampled"})
  public String mode;

  private Tracing tracing;
  private Route route;
  private RoutePlan plan;
  private final Map<String, String> clientHeaders = new HashMap<>();
  private Function<String, String> headers;
  private final Map<String, String> upstream = new HashMap<>();

  static final class Dropping implements SpanExporter {
    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }

  @Setup
  public void setup() throws Exception {
    GatewayConfig config = ConfigLoader.parse(java.nio.file.Path.of("gateway.yaml"), """
        listener: {host: 127.0.0.1, port: 0}
        backends:
          mock:
            baseUrl: http://127.0.0.1:18091/v1
            models: [mock-model]
        models:
          bench-model: {backend: mock, model: mock-model}
        auth: {open: true}
        """, Map.of());
    plan = new ModelRouter(config).plan("bench-model");
    route = plan.candidates().get(0);
    TracingSettings settings = new TracingSettings(true, URI.create("http://127.0.0.1:4318/v1/traces"), Map.of(),
        mode.equals("unsampled") ? 0.0 : 1.0, "bench");
    tracing = mode.equals("off") ? Tracing.OFF : Tracing.of(BatchSpanProcessor.builder(new Dropping()).build(),
        settings);
    if (!mode.equals("unsampled")) {
      clientHeaders.put("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    }
    headers = clientHeaders::get;
  }

  @TearDown
  public void tearDown() {
    tracing.close();
  }

  @Benchmark
  public RequestLogBuilder request() {
    RequestTrace trace = tracing.enabled() ? tracing.startRequest("POST", "/v1/chat/completions", headers)
        : RequestTrace.NONE;
    RequestLogBuilder log = new RequestLogBuilder("rid-1", "POST", "/v1/chat/completions", "127.0.0.1",
        trace.around(RequestLogListener.NOOP));
    log.request("chat_completions", "bench-model", false);
    if (trace.recording()) {
      trace.requested("chat_completions", "bench-model");
    }
    trace.classify().routed(plan);
    trace.admit().end();
    log.route(plan.tier(), plan.rule(), plan.signal());
    log.attemptStarted(route.backend().name(), route.alias().alias(), null, System.nanoTime());
    AttemptTrace attempt = trace.attempt(route, 1, false, null, false);
    if (attempt.recording()) {
      attempt.inject(upstream::put);
    }
    attempt.status(200);
    log.responseStarted(200, System.nanoTime());
    attempt.end(true);
    log.usage(120, 30, 0, false);
    log.end(Outcome.SERVED);
    return log;
  }
}
