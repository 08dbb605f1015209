package dev.llmgw.core.resilience;

import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.Resilience;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Resilience4j guards for one backend, used through their low-level API so that they work with
 * streams (a call ends when its response ends, not when a method returns):
 * {@link #tryAcquire()} before an attempt, exactly one of {@link #onSuccess}, {@link #onFailure} or
 * {@link #release} after it. Nothing here blocks: a full bulkhead, an exhausted rate limit or an
 * open breaker answers "no" at once and the request moves on to its next backend.
 *
 * <p>Thread-safe (the Resilience4j primitives are); shared by every event loop.
 */
public final class BackendGuard {
  private final BackendSpec spec;
  private final CircuitBreaker breaker;
  private final Bulkhead bulkhead;
  private final RateLimiter rateLimiter;
  private final IntervalFunction backoff;
  private volatile boolean healthy = true;

  /** A guard with its own breaker (tests); {@link BackendGuards} registers breakers for metrics. */
  public BackendGuard(BackendSpec spec) {
    this(spec, breakerConfig(spec.resilience().breaker()));
  }

  BackendGuard(BackendSpec spec, CircuitBreakerConfig breakerConfig) {
    this(spec, CircuitBreaker.of(spec.name(), breakerConfig));
  }

  BackendGuard(BackendSpec spec, CircuitBreaker breaker) {
    this.spec = spec;
    Resilience r = spec.resilience();
    this.breaker = breaker;
    this.bulkhead = Bulkhead.of(spec.name(), BulkheadConfig.custom()
        .maxConcurrentCalls(r.maxConcurrent())
        .maxWaitDuration(Duration.ZERO)
        .build());
    this.rateLimiter = r.rateLimit() == null ? null : RateLimiter.of(spec.name(), RateLimiterConfig.custom()
        .limitForPeriod(r.rateLimit().requests())
        .limitRefreshPeriod(r.rateLimit().period())
        .timeoutDuration(Duration.ZERO)
        .build());
    Resilience.Retry retry = r.retry();
    this.backoff = IntervalFunction.ofExponentialRandomBackoff(retry.initialBackoff(), retry.multiplier(), 1.0,
        retry.maxBackoff());
  }

  static CircuitBreakerConfig breakerConfig(Resilience.Breaker b) {
    return CircuitBreakerConfig.custom()
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
        .slidingWindowSize(b.window())
        .minimumNumberOfCalls(b.minimumCalls())
        .failureRateThreshold(b.failureRatePercent())
        .slowCallDurationThreshold(b.slowCall())
        .slowCallRateThreshold(b.slowCallRatePercent())
        .waitDurationInOpenState(b.openFor())
        .permittedNumberOfCallsInHalfOpenState(b.halfOpenCalls())
        .recordExceptions(BackendFailure.class)
        .build();
  }

  public BackendSpec spec() {
    return spec;
  }

  public CircuitBreaker breaker() {
    return breaker;
  }

  public Bulkhead bulkhead() {
    return bulkhead;
  }

  /** Set by the active health check. */
  public void healthy(boolean healthy) {
    this.healthy = healthy;
  }

  public boolean isHealthy() {
    return healthy;
  }

  /** Whether the breaker is open now (a health check notes it when it starts). */
  public boolean breakerOpen() {
    return breaker.getState() == CircuitBreaker.State.OPEN;
  }

  /**
   * The active health check passed (as many checks in a row as it needs to call the backend healthy),
   * and the check had started while the breaker was open: the backend answered after the breaker gave
   * up on it, so an open breaker moves to half-open at once instead of waiting out {@code openFor}. The
   * next requests probe it ({@code halfOpenCalls}); if they fail the breaker opens again. A check that
   * started before the breaker opened says nothing about the backend since, and changes nothing.
   *
   * @param openWhenSent whether the breaker was open when the check was sent
   * @return true when the breaker moved to half-open
   */
  public boolean healthCheckPassed(boolean openWhenSent) {
    if (!openWhenSent || breaker.getState() != CircuitBreaker.State.OPEN) {
      return false;
    }
    try {
      breaker.transitionToHalfOpenState();
      return true;
    } catch (IllegalStateException e) { // a request moved it first (IllegalStateTransitionException)
      return false;
    }
  }

  /**
   * Asks every guard for a permit.
   *
   * @return null when the attempt may start (the caller then owes one outcome call), otherwise why it
   *     may not
   */
  public Unavailable tryAcquire() {
    if (!healthy) {
      return Unavailable.UNHEALTHY;
    }
    if (!breaker.tryAcquirePermission()) {
      return Unavailable.BREAKER_OPEN;
    }
    if (!bulkhead.tryAcquirePermission()) {
      breaker.releasePermission();
      return Unavailable.BULKHEAD_FULL;
    }
    if (rateLimiter != null && !rateLimiter.acquirePermission()) {
      bulkhead.onComplete();
      breaker.releasePermission();
      return Unavailable.RATE_LIMITED;
    }
    return null;
  }

  /** The attempt's response ended completely. */
  public void onSuccess(long startNanos) {
    breaker.onSuccess(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    bulkhead.onComplete();
  }

  /** The attempt failed; only classes that count against the backend reach the breaker as errors. */
  public void onFailure(long startNanos, FailureClass failure) {
    if (failure.countsAgainstBackend()) {
      breaker.onError(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS, new BackendFailure(failure));
    } else {
      breaker.releasePermission();
    }
    bulkhead.onComplete();
  }

  /** The attempt ended without a verdict on the backend (the client went away). */
  public void release() {
    breaker.releasePermission();
    bulkhead.onComplete();
  }

  /** The wait before retry number {@code retry} (1 = first retry): exponential, full jitter, capped. */
  public Duration backoff(int retry) {
    return Duration.ofMillis(backoff.apply(retry));
  }

  /** Marks breaker errors; carries no stack trace (it is never thrown). */
  static final class BackendFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BackendFailure(FailureClass failure) {
      super(failure.tag(), null, false, false);
    }
  }

}
