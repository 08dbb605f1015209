package dev.llmgw.core.config.raw;

/**
 * A backend's {@code resilience.retry}, as written.
 *
 * @param maxAttempts    attempts on the backend including the first
 * @param initialBackoff first wait ({@code 200ms})
 * @param multiplier     growth per retry ({@code 2.0})
 * @param maxBackoff     cap on one wait
 */
public record RetryYaml(String maxAttempts, String initialBackoff, String multiplier,
    String maxBackoff) {}
