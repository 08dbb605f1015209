package dev.llmgw.core.config.raw;

import java.util.Map;

/**
 * A keys file (the one {@code auth.keysFile} names) as written: the same shapes as
 * {@code auth.keys} and {@code auth.teams}.
 *
 * @param keys  gateway keys by name, in file order
 * @param teams teams by name, in file order
 */
public record KeysFileYaml(Map<String, KeyYaml> keys, Map<String, TeamYaml> teams) {}
