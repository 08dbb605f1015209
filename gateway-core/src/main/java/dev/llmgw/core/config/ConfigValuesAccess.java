package dev.llmgw.core.config;

import java.time.Duration;

/** The config value parsers other modules may use (query parameters in the same syntax as the YAML). */
public final class ConfigValuesAccess {
  private ConfigValuesAccess() {}

  /** Parses {@code 500ms}, {@code 2s}, {@code 1m}, {@code 24h}; throws IllegalArgumentException with a message. */
  public static Duration duration(String s) {
    return ConfigValues.duration(s);
  }
}
