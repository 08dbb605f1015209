package dev.llmgw.core.trace;

import static dev.llmgw.core.trace.SpanNames.ASYNC;
import static dev.llmgw.core.trace.SpanNames.DOWNGRADED_FROM;
import static dev.llmgw.core.trace.SpanNames.ERROR_TYPE;
import static dev.llmgw.core.trace.SpanNames.RULE;
import static dev.llmgw.core.trace.SpanNames.SIGNAL;
import static dev.llmgw.core.trace.SpanNames.TIER;

import dev.llmgw.core.route.RoutePlan;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;

/**
 * A stage of a request before its backend attempts, as a child span of the request's: classification
 * (the routing decision, the off-loop semantic or judge signal included) and admission (keys, rate
 * limits, budget). {@link #NONE} when tracing is off. Ended once; later calls are ignored. A stage the
 * request never finished (refused, failed, the client gone) is ended with the request, as failed.
 */
public final class TraceStage {
  public static final TraceStage NONE = new TraceStage(null);

  private final Span span;
  private boolean ended;

  TraceStage(Span span) {
    this.span = span;
  }

  /** The classification waits for a signal computed off the event loop (semantic scores, a judge). */
  public void waiting() {
    if (span != null) {
      span.setAttribute(ASYNC, true);
    }
  }

  /** Ends the stage with the plan it produced (its tier, rule and signal: names from routing.yaml); returns it. */
  public RoutePlan routed(RoutePlan plan) {
    if (span == null || ended || plan == null) {
      return plan;
    }
    if (plan.tier() != null) {
      span.setAttribute(TIER, plan.tier());
    }
    if (plan.rule() != null) {
      span.setAttribute(RULE, plan.rule());
    }
    if (plan.signal() != null) {
      span.setAttribute(SIGNAL, plan.signal());
    }
    if (plan.downgradedFrom() != null) {
      span.setAttribute(DOWNGRADED_FROM, plan.downgradedFrom());
    }
    end();
    return plan;
  }

  /**
   * Ends the stage as failed: the request was refused or failed here.
   *
   * @param errorType a code from the gateway's error catalogue (or an exception's class name)
   */
  public void failed(String errorType) {
    if (span == null || ended) {
      return;
    }
    span.setAttribute(ERROR_TYPE, errorType == null ? "_OTHER" : errorType);
    span.setStatus(StatusCode.ERROR);
    end();
  }

  /** Ends the stage (once). */
  public void end() {
    if (span == null || ended) {
      return;
    }
    ended = true;
    span.end();
  }
}
