package dev.llmgw.core.config.raw;

/**
 * A backend's {@code resilience} section.
 *
 * @param maxConcurrent most calls in flight to the backend at once, as written
 * @param rateLimit     the provider's request limit (absent: none)
 * @param breaker       circuit breaker policy
 * @param retry         retries on the same backend
 * @param health        active health check (absent: none)
 */
public record ResilienceYaml(
    String maxConcurrent,
    RateLimitYaml rateLimit,
    BreakerYaml breaker,
    RetryYaml retry,
    HealthYaml health) {}
