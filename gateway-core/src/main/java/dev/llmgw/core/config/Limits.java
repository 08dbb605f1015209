package dev.llmgw.core.config;

import java.time.Duration;

/**
 * Request and connection limits applied by the server pipeline.
 *
 * @param maxRequestBytes     largest request body accepted; larger ones get 413
 * @param maxHeaderBytes      largest request header block; larger ones get 431
 * @param maxInitialLineBytes longest request line; longer ones get 414
 * @param clientIdleTimeout   a client connection with no traffic for this long is closed
 * @param maxErrorBodyBytes   largest backend error body read to classify a failure (bodies of
 *                            successful responses are never buffered)
 */
public record Limits(
    int maxRequestBytes,
    int maxHeaderBytes,
    int maxInitialLineBytes,
    Duration clientIdleTimeout,
    int maxErrorBodyBytes) {

  public static Limits defaults() {
    return new Limits(1 << 20, 16 * 1024, 8 * 1024, Duration.ofSeconds(120), 64 * 1024);
  }
}
