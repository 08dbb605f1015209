package dev.llmgw.core.config.raw;

/**
 * The {@code limits} section; sizes, counts and durations as written ({@code 1MiB}, {@code 120s}).
 *
 * @param maxRequestBytes       largest request body
 * @param maxHeaderBytes        largest request header block
 * @param maxInitialLineBytes   longest request line
 * @param clientIdleTimeout     idle client connection timeout
 * @param maxErrorBodyBytes     largest backend error body read
 * @param maxConnections        most open client connections
 * @param requestReceiveTimeout time allowed to receive a whole request
 */
public record LimitsYaml(
    String maxRequestBytes,
    String maxHeaderBytes,
    String maxInitialLineBytes,
    String clientIdleTimeout,
    String maxErrorBodyBytes,
    String maxConnections,
    String requestReceiveTimeout) {}
