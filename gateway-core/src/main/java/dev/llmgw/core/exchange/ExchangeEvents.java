package dev.llmgw.core.exchange;

import dev.llmgw.core.log.RequestLog;
import dev.llmgw.core.resilience.FailureClass;
import dev.llmgw.core.route.Route;

/**
 * What the request path reports as it goes, for metrics. Called on event loops: implementations
 * must not block (pre-resolved meters, no I/O). Labels derive only from config (routes, failure
 * classes), never from request data.
 */
public interface ExchangeEvents {
  ExchangeEvents NOOP = new ExchangeEvents() {};

  default void attemptStarted(Route route) {}

  /** An attempt failed before its response was committed (or after, with {@code committed}). */
  default void attemptFailed(Route route, FailureClass failure, long durationNanos, boolean committed) {}

  /** Another try on the same backend after {@code failure}. */
  default void retried(Route route, FailureClass failure) {}

  /** The request moves from one backend to the next because of {@code reason}. */
  default void fellBack(Route from, Route to, FailureClass reason) {}

  /** A candidate was not tried: breaker open, bulkhead or rate limit full, unhealthy. */
  default void skipped(Route route, String reason) {}

  /** The response ended (in any way); the log holds what happened. */
  default void completed(RequestLog log) {}
}
