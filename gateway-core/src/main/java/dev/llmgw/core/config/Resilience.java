package dev.llmgw.core.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How the gateway protects one backend and itself from it (Resilience4j per backend).
 *
 * @param maxConcurrent most calls in flight to the backend at once (bulkhead); beyond it a request
 *                      moves on to its next candidate instead of queueing
 * @param rateLimit     the provider's own request limit, or {@code null} for none; without a permit
 *                      a request moves on (never waits)
 * @param breaker       circuit breaker policy
 * @param retry         retries on the same backend for retryable failures
 * @param health        active health check, or {@code null} for none
 */
public record Resilience(int maxConcurrent, RateLimit rateLimit, Breaker breaker, Retry retry, HealthCheck health) {

  public Resilience {
    Objects.requireNonNull(breaker, "breaker");
    Objects.requireNonNull(retry, "retry");
  }

  public static Resilience defaults() {
    return new Resilience(256, null, Breaker.defaults(), Retry.defaults(), null);
  }

  /** At most {@code requests} calls per {@code period}. */
  public record RateLimit(int requests, Duration period) {}

  /**
   * Count-based circuit breaker.
   *
   * @param window               calls in the sliding window
   * @param minimumCalls         calls needed before the failure rate is judged
   * @param failureRatePercent   open at or above this failure rate
   * @param slowCall             a call slower than this (to the end of its response) counts as slow
   * @param slowCallRatePercent  open at or above this slow-call rate
   * @param openFor              how long the breaker stays open before letting probes through
   * @param halfOpenCalls        probe calls in half-open state
   */
  public record Breaker(int window, int minimumCalls, float failureRatePercent, Duration slowCall,
      float slowCallRatePercent, Duration openFor, int halfOpenCalls) {
    public static Breaker defaults() {
      return new Breaker(20, 10, 50f, Duration.ofSeconds(60), 100f, Duration.ofSeconds(30), 3);
    }
  }

  /**
   * Retries on the same backend, for retryable failure classes only, with exponential backoff and
   * full jitter.
   *
   * @param maxAttempts    attempts on this backend including the first (1 = no retry)
   * @param initialBackoff first wait
   * @param multiplier     growth per retry
   * @param maxBackoff     cap on one wait
   */
  public record Retry(int maxAttempts, Duration initialBackoff, double multiplier, Duration maxBackoff) {
    public static Retry defaults() {
      return new Retry(2, Duration.ofMillis(200), 2.0, Duration.ofSeconds(2));
    }
  }

  /**
   * Active health check: {@code GET baseUrl + path} every {@code interval}.
   *
   * @param unhealthyAfter consecutive failures that mark the backend down
   * @param healthyAfter   consecutive successes that mark it up again
   */
  public record HealthCheck(String path, Duration interval, Duration timeout, int unhealthyAfter, int healthyAfter) {}
}
