package dev.llmgw.core.config;

import java.time.Duration;

/**
 * Bounds on one request's failover: no retry storms, no request that waits forever.
 *
 * @param deadline      time from the request's arrival after which no new attempt starts (the
 *                      attempt in flight keeps its own timeouts)
 * @param maxAttempts   attempts across all backends, retries included
 * @param maxRetryAfter longest {@code Retry-After} the gateway waits out on the same backend; a
 *                      longer one (or one past the deadline) moves on to the next backend at once
 * @param lastResort    the model alias that answers a request whose every candidate failed before its
 *                      first byte (one attempt, beyond {@code maxAttempts} and the deadline), or
 *                      {@code null} for none
 */
public record Failover(Duration deadline, int maxAttempts, Duration maxRetryAfter, String lastResort) {

  public Failover(Duration deadline, int maxAttempts, Duration maxRetryAfter) {
    this(deadline, maxAttempts, maxRetryAfter, null);
  }

  public static Failover defaults() {
    return new Failover(Duration.ofSeconds(30), 4, Duration.ofSeconds(5));
  }

  /** The same bounds with another last resort (or none). */
  public Failover withLastResort(String alias) {
    return new Failover(deadline, maxAttempts, maxRetryAfter, alias);
  }
}
