package dev.llmgw.core.config.raw;

/**
 * A backend's {@code resilience.health}: the active health check, as written.
 *
 * @param path           path appended to the backend's base URL ({@code /models})
 * @param interval       time between two checks
 * @param timeout        time allowed for one check
 * @param unhealthyAfter consecutive failures that mark the backend down
 * @param healthyAfter   consecutive successes that mark it up again
 */
public record HealthYaml(String path, String interval, String timeout, String unhealthyAfter,
    String healthyAfter) {}
