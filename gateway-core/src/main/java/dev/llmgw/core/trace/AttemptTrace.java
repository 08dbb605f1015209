package dev.llmgw.core.trace;

import static dev.llmgw.core.trace.SpanNames.ATTEMPT_OUTCOME;
import static dev.llmgw.core.trace.SpanNames.ERROR_TYPE;
import static dev.llmgw.core.trace.SpanNames.FAILURE_CLASS;
import static dev.llmgw.core.trace.SpanNames.HTTP_STATUS;

import dev.llmgw.core.resilience.FailureClass;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.util.function.BiConsumer;

/**
 * One backend attempt as a client span, child of the request's span: the attempt's own
 * {@code traceparent} goes to the backend ({@link #inject}), then its status, its failure class and
 * how it ended. {@link #NONE} when tracing is off. Confined to the attempt's event loop.
 */
public final class AttemptTrace {
  public static final AttemptTrace NONE = new AttemptTrace(null);

  private static final TextMapSetter<BiConsumer<String, String>> SETTER = (carrier, key, value) -> {
    if (carrier != null) {
      carrier.accept(key, value);
    }
  };

  private final Span span;
  private boolean failed;
  private boolean ended;

  AttemptTrace(Span span) {
    this.span = span;
  }

  /** Whether this attempt has a span (tracing on). */
  public boolean recording() {
    return span != null;
  }

  /**
   * Puts this attempt's W3C trace context ({@code traceparent}, and {@code tracestate} when the trace
   * carries one) into the backend request's headers, with {@code header.accept(name, value)}.
   */
  public void inject(BiConsumer<String, String> header) {
    if (span != null) {
      W3CTraceContextPropagator.getInstance().inject(Context.root().with(span), header, SETTER);
    }
  }

  /** The backend answered with {@code status}. */
  public void status(int status) {
    if (span != null) {
      span.setAttribute(HTTP_STATUS, status);
    }
  }

  /** The attempt failed as {@code failure} (a fixed set of names). */
  public void failed(FailureClass failure) {
    if (span == null || ended) {
      return;
    }
    failed = true;
    span.setAttribute(FAILURE_CLASS, failure.tag());
    span.setAttribute(ERROR_TYPE, failure.tag());
    span.setStatus(StatusCode.ERROR);
  }

  /**
   * Ends the span once.
   *
   * @param complete the backend's response arrived whole (else the attempt failed or was cancelled)
   */
  public void end(boolean complete) {
    if (span == null || ended) {
      return;
    }
    ended = true;
    span.setAttribute(ATTEMPT_OUTCOME, failed ? "failed" : complete ? "ok" : "cancelled");
    span.end();
  }
}
