package dev.llmgw.core.trace;

import static dev.llmgw.core.trace.SpanNames.HTTP_METHOD;
import static dev.llmgw.core.trace.SpanNames.HTTP_ROUTE;

import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.config.TracingSettings;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporterBuilder;
import io.opentelemetry.sdk.common.Clock;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's tracer: {@link #OFF} (the default: every request gets {@link RequestTrace#NONE}, nothing
 * is recorded), or an OpenTelemetry SDK tracer provider — sampling parent-based on a trace-id ratio,
 * spans batched ({@link BatchSpanProcessor}) to an OTLP/HTTP collector ({@link #start}) or to the
 * processor a test gives ({@link #of}). Not registered globally. {@link #close} flushes and shuts the
 * provider down (on stop).
 */
public final class Tracing implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Tracing.class);
  public static final Tracing OFF = new Tracing(null, null);
  static final String SCOPE = "dev.llmgw.gateway";

  private static final TextMapGetter<Function<String, String>> GETTER = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Function<String, String> carrier) {
      return List.of(); // the W3C propagator asks for its two headers by name
    }

    @Override
    public String get(Function<String, String> carrier, String key) {
      return carrier == null ? null : carrier.apply(key);
    }
  };
  /** Paths named as themselves in {@code http.route}; others are left out (the span is named by the method). */
  /** Probes and scrapes, answered every few seconds by machines: never traced (noise, and spans to export). */
  private static final Set<String> UNTRACED = Set.of("/healthz", "/readyz", "/metrics");

  private static final Set<String> ROUTES = Set.of("/healthz", "/readyz", "/metrics", "/v1/models",
      "/admin/reload", "/admin/explain", "/admin/config", "/admin/economics");

  private final SdkTracerProvider provider;
  private final Tracer tracer;

  private Tracing(SdkTracerProvider provider, Tracer tracer) {
    this.provider = provider;
    this.tracer = tracer;
  }

  /** Tracing as configured: {@link #OFF} unless enabled, else spans exported over OTLP/HTTP in batches. */
  public static Tracing start(TracingSettings settings) {
    if (!settings.enabled()) {
      return OFF;
    }
    OtlpHttpSpanExporterBuilder exporter = OtlpHttpSpanExporter.builder()
        .setEndpoint(settings.endpoint().toString())
        .setTimeout(Duration.ofSeconds(10))
        .setMemoryMode(MemoryMode.REUSABLE_DATA); // the batch processor exports one batch at a time
    settings.headers().forEach(exporter::addHeader);
    Tracing t = of(BatchSpanProcessor.builder(exporter.build()).build(), settings);
    LOG.info("tracing on: spans to {} (OTLP/HTTP protobuf{}), sample ratio {}, service {}", settings.endpoint(),
        settings.headers().isEmpty() ? "" : ", headers " + settings.headers().keySet(), settings.sampleRatio(),
        settings.serviceName());
    return t;
  }

  /** Tracing into {@code processor} (tests: a simple processor over an in-memory exporter). */
  public static Tracing of(SpanProcessor processor, TracingSettings settings) {
    SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
            AttributeKey.stringKey("service.name"), settings.serviceName()))))
        .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(settings.sampleRatio())))
        .addSpanProcessor(processor)
        .build();
    return new Tracing(provider, provider.get(SCOPE));
  }

  public boolean enabled() {
    return tracer != null;
  }

  /**
   * A request's trace, its server span started now: a child of the W3C context in {@code headers}
   * ({@code traceparent}, {@code tracestate}) when it is valid, else the root of a new trace (a
   * malformed {@code traceparent} is ignored, never an error).
   *
   * @param method  the request's method (anything but a standard one is {@code _OTHER})
   * @param path    its path without the query (a known route names the span; any other is left out)
   * @param headers the request's header values by name, or null when no head arrived
   */
  public RequestTrace startRequest(String method, String path, Function<String, String> headers) {
    if (tracer == null || path != null && UNTRACED.contains(path)) {
      return RequestTrace.NONE;
    }
    Context parent = headers == null ? Context.root()
        : W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, GETTER);
    String m = SpanNames.method(method);
    String route = route(path);
    long nanoTime = System.nanoTime();
    long epoch = Clock.getDefault().now();
    Span span = tracer.spanBuilder(route == null ? m : m + " " + route).setParent(parent)
        .setSpanKind(SpanKind.SERVER).setStartTimestamp(epoch, TimeUnit.NANOSECONDS)
        .setAttribute(HTTP_METHOD, m).setAttribute(HTTP_ROUTE, route).startSpan();
    return new RequestTrace(tracer, span, parent.with(span), nanoTime, epoch);
  }

  static String route(String path) {
    if (path == null) {
      return null;
    }
    if (Endpoint.ofClientPath(path) != null || ROUTES.contains(path)) {
      return path;
    }
    if (path.startsWith("/v1/models/")) {
      return "/v1/models/{model}";
    }
    if (path.startsWith("/v1/workflows/") && path.endsWith("/outcome")) {
      return "/v1/workflows/{id}/outcome";
    }
    return null;
  }

  /** Exports what is buffered and stops the provider (waits up to 5 s). */
  @Override
  public void close() {
    if (provider != null) {
      provider.shutdown().join(5, TimeUnit.SECONDS);
    }
  }
}
