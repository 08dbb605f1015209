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
 */
public record Failover(Duration deadline, int maxAttempts, Duration maxRetryAfter) {
  public static Failover defaults() {
    return new Failover(Duration.ofSeconds(30), 4, Duration.ofSeconds(5));
  }
}
