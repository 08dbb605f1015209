package dev.llmgw.core.config.raw;

import java.util.Map;

/**
 * The {@code auth} section as written.
 *
 * @param open             {@code true} to run without keys, as written
 * @param adminTokenEnv    name of the environment variable holding the admin token
 * @param adminTokenSha256 hex SHA-256 of the admin token (instead of {@code adminTokenEnv})
 * @param protectMetrics   whether {@code /metrics} needs the admin token, as written
 * @param keysFile         a file of more keys and teams, relative to the directory of gateway.yaml
 * @param keys             gateway keys by name, in file order
 * @param teams            teams by name, in file order
 */
public record AuthYaml(
    String open,
    String adminTokenEnv,
    String adminTokenSha256,
    String protectMetrics,
    String keysFile,
    Map<String, KeyYaml> keys,
    Map<String, TeamYaml> teams) {}
