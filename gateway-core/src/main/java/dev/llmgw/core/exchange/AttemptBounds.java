package dev.llmgw.core.exchange;

import dev.llmgw.core.config.Failover;
import dev.llmgw.core.resilience.BackendGuard;
import dev.llmgw.core.resilience.FailureClass;
import dev.llmgw.core.route.Route;
import java.time.Duration;

/**
 * The bounds of one exchange's attempts: the attempt cap and the failover deadline (on the loop's
 * ticker, counted from the request's arrival), how long a retry on the same backend may wait, and which
 * candidates a context overflow rules out. Confined to the exchange's event loop.
 */
final class AttemptBounds {
  private final Failover failover;
  private final Watchdog clock;
  private final long deadlineNanos;
  /** The context window that overflowed (0: unknown, so every window is too small), or -1: none did. */
  private int contextExceededAt = -1;

  /** @param sinceArrivalNanos how long ago the whole request arrived */
  AttemptBounds(Failover failover, Watchdog clock, long sinceArrivalNanos) {
    this.failover = failover;
    this.clock = clock;
    this.deadlineNanos = clock.nanoTime() - sinceArrivalNanos + failover.deadline().toNanos();
  }

  /** No attempt may start: the cap is reached or the deadline passed. */
  boolean spent(int attempts) {
    return attempts >= failover.maxAttempts() || clock.nanoTime() >= deadlineNanos;
  }

  /**
   * How long to wait before retrying {@code route}'s backend after {@code fc}, or null to move on: only
   * retryable failures, within the backend's retry attempts and the exchange's cap; the backend's
   * {@code Retry-After} if it fits {@code failover.maxRetryAfter} (a longer wait: the next backend
   * answers sooner), else the guard's backoff; never past the deadline.
   *
   * @param retriesHere retries already made on this backend
   */
  Duration retryWait(FailureClass fc, Duration retryAfter, Route route, int retriesHere, int attempts,
      BackendGuard guard) {
    if (!fc.retryable() || retriesHere + 1 >= route.backend().resilience().retry().maxAttempts()
        || attempts >= failover.maxAttempts()) {
      return null;
    }
    if (retryAfter != null && retryAfter.compareTo(failover.maxRetryAfter()) > 0) {
      return null;
    }
    Duration wait = retryAfter != null ? retryAfter : guard.backoff(retriesHere + 1);
    return clock.nanoTime() + wait.toNanos() >= deadlineNanos ? null : wait;
  }

  /** {@code route}'s context window overflowed: no candidate with a window as small is tried. */
  void contextExceeded(Route route) {
    contextExceededAt = route.alias().contextTokens();
  }

  boolean contextTooSmall(Route route) {
    if (contextExceededAt < 0) {
      return false;
    }
    return contextExceededAt == 0 || route.alias().contextTokens() <= contextExceededAt;
  }
}
