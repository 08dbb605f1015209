package dev.llmgw.core.config.raw;

/**
 * The {@code failover} section: bounds on one request's retries and fallbacks, as written.
 *
 * @param deadline      time from arrival after which no new attempt starts ({@code 30s})
 * @param maxAttempts   attempts across all backends, retries included
 * @param maxRetryAfter longest {@code Retry-After} waited out on the same backend
 * @param lastResort    the model alias that answers when every candidate failed before answering
 */
public record FailoverYaml(String deadline, String maxAttempts, String maxRetryAfter, String lastResort) {}
