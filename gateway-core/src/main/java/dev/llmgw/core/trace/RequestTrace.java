package dev.llmgw.core.trace;

import static dev.llmgw.core.trace.SpanNames.*;

import dev.llmgw.core.log.Outcome;
import dev.llmgw.core.log.RequestLog;
import dev.llmgw.core.log.RequestLogListener;
import dev.llmgw.core.resilience.FailureClass;
import dev.llmgw.core.route.Route;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.concurrent.TimeUnit;

/**
 * One request's trace: its server span (continuing the client's W3C trace context, or a new trace)
 * and the factory of its child spans — {@link #classify()}, {@link #admit()}, one
 * {@link #attempt} per backend try. The server span ends when the request's record ends (after the
 * last byte of a stream), with the record's outcome, route and usage as attributes, through the
 * listener {@link #around} wraps around the request's sinks — so it ends exactly once, like the
 * record — and the sinks (metrics) run with the span current, which is what puts its trace id on the
 * latency histograms as an exemplar.
 *
 * <p>{@link #NONE} when tracing is off: every method returns at once (no-op singletons).
 */
public final class RequestTrace {
  public static final RequestTrace NONE = new RequestTrace(null, null, null, 0, 0);

  private final Tracer tracer;
  private final Span span;
  private final Context context;
  /** {@link System#nanoTime()} and the epoch time, at the start: to place the first byte on the span's timeline. */
  private final long startNanoTime;
  private final long startEpochNanos;
  private String operation;
  private String requestedModel;
  private Route lastRoute;
  /** The stage started last: ended with the request as failed if it is still open then. */
  private TraceStage stage;
  /**
   * The attempt started last. An attempt whose answer arrived whole ends after the relay's verdict on it,
   * which may end the request first: the request ends it before itself (a no-op if it ended already).
   */
  private AttemptTrace attempt;

  RequestTrace(Tracer tracer, Span span, Context context, long startNanoTime, long startEpochNanos) {
    this.tracer = tracer;
    this.span = span;
    this.context = context;
    this.startNanoTime = startNanoTime;
    this.startEpochNanos = startEpochNanos;
  }

  /** Whether spans are made for this request (tracing on); sampled or not. */
  public boolean recording() {
    return span != null;
  }

  /**
   * The request as parsed.
   *
   * @param endpoint the endpoint's label ({@code chat_completions}, ...)
   * @param model    the model the client asked for, when it is configured (or {@code auto}), else null:
   *                 a name a client made up never becomes an attribute
   */
  public void requested(String endpoint, String model) {
    if (span == null) {
      return;
    }
    operation = operation(endpoint);
    requestedModel = model;
    if (operation != null) {
      span.setAttribute(OPERATION, operation);
    }
    if (model != null) {
      span.setAttribute(REQUEST_MODEL, model);
    }
  }

  /** The routing decision's span (ended by the caller once it has a plan, else with the request). */
  public TraceStage classify() {
    return span == null ? TraceStage.NONE : (stage = new TraceStage(child(CLASSIFY, SpanKind.INTERNAL).startSpan()));
  }

  /** The admission's span: access control, rate limits, budget (ended by the caller, else with the request). */
  public TraceStage admit() {
    return span == null ? TraceStage.NONE : (stage = new TraceStage(child(ADMIT, SpanKind.INTERNAL).startSpan()));
  }

  /**
   * A backend attempt's span (ended by the attempt).
   *
   * @param number     1 for the request's first attempt
   * @param retry      a retry of the same backend
   * @param reason     why the request came here: the failure that is retried, or that made it leave the
   *                   previous candidate (null for the first)
   * @param lastResort the plan's last resort, after every candidate failed
   */
  public AttemptTrace attempt(Route route, int number, boolean retry, FailureClass reason, boolean lastResort) {
    if (span == null) {
      return AttemptTrace.NONE;
    }
    lastRoute = route;
    String kind = retry ? "retry" : lastResort ? "last_resort" : reason != null ? "fallback" : "first";
    String op = operation == null ? "chat" : operation;
    SpanBuilder b = child(op + " " + route.backendModel(), SpanKind.CLIENT)
        .setAttribute(OPERATION, op)
        .setAttribute(REQUEST_MODEL, route.backendModel())
        .setAttribute(PROVIDER, route.alias().ownedBy())
        .setAttribute(SYSTEM, route.alias().ownedBy())
        .setAttribute(BACKEND, route.backend().name())
        .setAttribute(ALIAS, route.alias().alias())
        .setAttribute(ATTEMPT, (long) number)
        .setAttribute(ATTEMPT_KIND, kind);
    if (!route.backend().isInProcess()) {
      b.setAttribute(SERVER_ADDRESS, route.backend().host()).setAttribute(SERVER_PORT, (long) route.backend().port());
    }
    if (reason != null) {
      b.setAttribute(retry ? RETRY_REASON : FALLBACK_REASON, reason.tag());
    }
    return attempt = new AttemptTrace(b.startSpan());
  }

  /**
   * The sinks to give the request's record: {@code sinks} itself when tracing is off; else a listener
   * that ends the span with the record and then tells {@code sinks} with the span current.
   */
  public RequestLogListener around(RequestLogListener sinks) {
    if (span == null) {
      return sinks;
    }
    return log -> {
      try {
        end(log);
      } finally {
        try (Scope ignored = context.makeCurrent()) {
          sinks.onEnd(log);
        }
      }
    };
  }

  private SpanBuilder child(String name, SpanKind kind) {
    return tracer.spanBuilder(name).setParent(context).setSpanKind(kind);
  }

  /** Ends the server span with what the record says. */
  void end(RequestLog log) {
    if (stage != null) { // refused, failed or left while in a stage (a stage that ended is not touched)
      stage.failed(log.errorCode() != null ? log.errorCode() : log.outcome().label());
    }
    if (attempt != null) {
      attempt.end(true);
    }
    if (span.isRecording()) {
      describe(log);
    }
    span.end();
  }

  private void describe(RequestLog log) {
    span.setAttribute(REQUEST_ID, log.requestId());
    if (operation == null && log.endpoint() != null) {
      requested(log.endpoint(), requestedModel);
    }
    if (log.status() > 0) {
      span.setAttribute(HTTP_STATUS, log.status());
    }
    Outcome outcome = log.outcome();
    span.setAttribute(OUTCOME, outcome.label());
    setIfPresent(TIER, log.tier());
    setIfPresent(RULE, log.rule());
    setIfPresent(SIGNAL, log.signal());
    setIfPresent(KEY_NAME, log.keyName());
    setIfPresent(TEAM, log.team());
    setIfPresent(WORKFLOW_TYPE, log.workflowType());
    setIfPresent(WORKFLOW_ID, log.workflowId());
    if (log.endpoint() != null) {
      span.setAttribute(STREAM, log.stream());
    }
    if (log.attempts() > 0) {
      setIfPresent(BACKEND, log.backend());
      setIfPresent(ALIAS, log.alias());
      span.setAttribute(ATTEMPTS, (long) log.attempts());
      span.setAttribute(RETRIES, (long) log.retries());
      span.setAttribute(FALLBACKS, (long) log.fallbacks());
      if (lastRoute != null && (outcome == Outcome.SERVED || outcome == Outcome.STREAM_CUT)) {
        span.setAttribute(RESPONSE_MODEL, lastRoute.backendModel());
      }
    }
    setIfPresent(CACHE, log.cache());
    if (log.cacheHit()) { // no attempt: the backend and alias that produced the stored answer
      setIfPresent(BACKEND, log.backend());
      setIfPresent(ALIAS, log.alias());
      if (!Double.isNaN(log.cacheSaved())) {
        span.setAttribute(CACHE_SAVED, log.cacheSaved());
      }
    }
    if (log.promptTokens() >= 0) {
      span.setAttribute(INPUT_TOKENS, log.promptTokens());
      span.setAttribute(OUTPUT_TOKENS, Math.max(0, log.completionTokens()));
      span.setAttribute(USAGE_ESTIMATED, log.usageEstimated());
    }
    if (!Double.isNaN(log.cost())) {
      span.setAttribute(COST, log.cost());
    }
    if (log.firstByteNanos() != 0) {
      span.addEvent(FIRST_BYTE, startEpochNanos + (log.firstByteNanos() - startNanoTime), TimeUnit.NANOSECONDS);
    }
    if (outcome != Outcome.SERVED) {
      span.setAttribute(ERROR_TYPE, log.errorCode() != null ? log.errorCode() : outcome.label());
    }
    if (outcome == Outcome.FAILED || outcome == Outcome.STREAM_CUT || log.status() >= 500) {
      span.setStatus(StatusCode.ERROR);
    }
  }

  private void setIfPresent(io.opentelemetry.api.common.AttributeKey<String> key, String value) {
    if (value != null) {
      span.setAttribute(key, value);
    }
  }
}
