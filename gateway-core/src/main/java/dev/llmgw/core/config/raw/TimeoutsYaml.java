package dev.llmgw.core.config.raw;

/**
 * A backend's {@code timeouts} section; durations as written ({@code 2s}, {@code 10m}).
 *
 * @param connect   connect timeout
 * @param firstByte time to first byte
 * @param idle      longest silence between chunks
 * @param total     whole exchange
 */
public record TimeoutsYaml(String connect, String firstByte, String idle, String total) {}
