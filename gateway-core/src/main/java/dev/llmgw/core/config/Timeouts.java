package dev.llmgw.core.config;

import java.time.Duration;

/**
 * Per-backend timeouts.
 *
 * @param connect   TCP (and TLS) connect
 * @param firstByte from request sent to the response head arriving (time to first byte)
 * @param idle      longest silence between two chunks of a response
 * @param total     whole exchange, request sent to last byte
 */
public record Timeouts(Duration connect, Duration firstByte, Duration idle, Duration total) {

  public static Timeouts defaults() {
    return new Timeouts(
        Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofMinutes(10));
  }
}
