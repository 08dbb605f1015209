package dev.llmgw.core.config;

/**
 * Where the gateway listens.
 *
 * @param host interface to bind, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
 * @param port TCP port, 0 for an ephemeral one (tests)
 */
public record ListenerSpec(String host, int port) {}
