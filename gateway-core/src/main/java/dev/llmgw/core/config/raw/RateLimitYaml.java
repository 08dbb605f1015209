package dev.llmgw.core.config.raw;

/**
 * A backend's {@code resilience.rateLimit}: at most {@code requests} per {@code per}.
 *
 * @param requests the number of requests, as written
 * @param per      the period, as written ({@code 1m})
 */
public record RateLimitYaml(String requests, String per) {}
