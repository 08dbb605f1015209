package dev.llmgw.core.config.raw;

import java.util.List;

/**
 * One entry of the {@code backends} map.
 *
 * @param baseUrl        OpenAI-compatible base URL
 * @param apiKeyEnv      name of the environment variable holding the provider key
 * @param enabled        {@code true}, {@code false} or {@code if-key-set}, as written
 * @param models         backend model names served
 * @param timeouts       per-backend timeouts
 * @param maxConnections most pooled connections per event loop, as written
 * @param resilience     breaker, bulkhead, rate limit, retry and health check (optional)
 */
public record BackendYaml(
    String baseUrl,
    String apiKeyEnv,
    String enabled,
    List<String> models,
    TimeoutsYaml timeouts,
    String maxConnections,
    ResilienceYaml resilience) {}
