package dev.llmgw.core.config.raw;

/**
 * The {@code listener} section.
 *
 * @param host interface to bind
 * @param port TCP port, as written
 */
public record ListenerYaml(String host, String port) {}
