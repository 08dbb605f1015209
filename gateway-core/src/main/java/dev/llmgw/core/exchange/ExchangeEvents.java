package dev.llmgw.core.exchange;

import dev.llmgw.core.resilience.FailureClass;
import dev.llmgw.core.resilience.Unavailable;
import dev.llmgw.core.route.Route;

/**
 * What the request path reports about its attempts as it goes, for metrics (how a request ended is
 * in its {@link dev.llmgw.core.log.RequestLog}, told to {@link dev.llmgw.core.log.RequestLogListener}s). Called on event loops: implementations
 * must not block (pre-resolved meters, no I/O). Labels derive only from config (routes, failure
 * classes), never from request data.
 */
public interface ExchangeEvents {
  ExchangeEvents NOOP = new ExchangeEvents() {};

  /** Tells {@code first}, then {@code second}. */
  static ExchangeEvents both(ExchangeEvents first, ExchangeEvents second) {
    return new ExchangeEvents() {
      @Override
      public void attemptStarted(Route route) {
        first.attemptStarted(route);
        second.attemptStarted(route);
      }

      @Override
      public void attemptFailed(Route route, FailureClass failure, long durationNanos, boolean committed) {
        first.attemptFailed(route, failure, durationNanos, committed);
        second.attemptFailed(route, failure, durationNanos, committed);
      }

      @Override
      public void retried(Route route, FailureClass failure) {
        first.retried(route, failure);
        second.retried(route, failure);
      }

      @Override
      public void fellBack(Route from, Route to, FailureClass reason) {
        first.fellBack(from, to, reason);
        second.fellBack(from, to, reason);
      }

      @Override
      public void skipped(Route route, Unavailable reason) {
        first.skipped(route, reason);
        second.skipped(route, reason);
      }

      @Override
      public void lastResort(Route from, Route to, FailureClass reason) {
        first.lastResort(from, to, reason);
        second.lastResort(from, to, reason);
      }
    };
  }

  default void attemptStarted(Route route) {}

  /** An attempt failed before its response was committed (or after, with {@code committed}). */
  default void attemptFailed(Route route, FailureClass failure, long durationNanos, boolean committed) {}

  /** Another try on the same backend after {@code failure}. */
  default void retried(Route route, FailureClass failure) {}

  /** The request moves from one backend to the next because of {@code reason}. */
  default void fellBack(Route from, Route to, FailureClass reason) {}

  /** A candidate was not tried: breaker open, bulkhead or rate limit full, unhealthy. */
  default void skipped(Route route, Unavailable reason) {}

  /**
   * Every candidate failed (the last, {@code from}, because of {@code reason}) and the request goes
   * to the alias of last resort, {@code to}. Told after {@link #fellBack} for the same hop.
   */
  default void lastResort(Route from, Route to, FailureClass reason) {}
}
