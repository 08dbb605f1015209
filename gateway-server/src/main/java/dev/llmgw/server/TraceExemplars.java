package dev.llmgw.server;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;

/**
 * The current OpenTelemetry span, as Prometheus's exemplar sampler asks for it: a latency histogram
 * recorded while a request's span is current (the request record's sinks run so, see
 * {@code RequestTrace.around}) keeps that request's trace and span id as the exemplar of its bucket,
 * when the span is sampled. Exemplars appear in the OpenMetrics exposition of {@code /metrics}.
 */
final class TraceExemplars implements io.prometheus.metrics.tracer.common.SpanContext {

  private static SpanContext current() {
    return Span.current().getSpanContext();
  }

  @Override
  public String getCurrentTraceId() {
    SpanContext c = current();
    return c.isValid() ? c.getTraceId() : null;
  }

  @Override
  public String getCurrentSpanId() {
    SpanContext c = current();
    return c.isValid() ? c.getSpanId() : null;
  }

  @Override
  public boolean isCurrentSpanSampled() {
    SpanContext c = current();
    return c.isValid() && c.isSampled();
  }

  @Override
  public void markCurrentSpanAsExemplar() {
    // the request's span has ended when its histograms are recorded: nothing to mark on it
  }
}
