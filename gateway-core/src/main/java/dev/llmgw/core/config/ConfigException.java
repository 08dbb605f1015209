package dev.llmgw.core.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code gateway.yaml} could not be loaded. It carries every problem found, not just the first, so
 * that one run of {@code validate} shows all that needs fixing.
 */
public final class ConfigException extends Exception {

  private static final long serialVersionUID = 1L;

  private final transient List<ConfigError> errors;

  /** @param errors the problems found, in file order; at least one */
  public ConfigException(List<ConfigError> errors) {
    super(errors.stream().map(ConfigError::toString).collect(Collectors.joining("\n")));
    if (errors.isEmpty()) {
      throw new IllegalArgumentException("a ConfigException needs at least one error");
    }
    this.errors = List.copyOf(errors);
  }

  /** Every problem found, in file order (problems without a line last). */
  public List<ConfigError> errors() {
    return errors;
  }
}
