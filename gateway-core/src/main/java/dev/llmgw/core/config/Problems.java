package dev.llmgw.core.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Collects every {@link ConfigError} of one load. Lines come from the {@link LocationIndex}; only the
 * first problem at a given path is kept, so a value that failed to bind is not reported again by
 * the compiler.
 */
final class Problems {

  private final Path file;
  private final List<ConfigError> errors = new ArrayList<>();
  private final Set<String> paths = new HashSet<>();
  private LocationIndex index = LocationIndex.EMPTY;
  private int reported;

  Problems(Path file) {
    this.file = file;
  }

  void useIndex(LocationIndex index) {
    this.index = index;
  }

  LocationIndex index() {
    return index;
  }

  /** Records a problem at a path, on the line of that path (or of its nearest written parent). */
  void add(String path, String message) {
    addAt(index.line(path), path, message);
  }

  /** Records a problem at a known line. */
  void addAt(int line, String path, String message) {
    reported++;
    if (paths.add(path)) {
      errors.add(new ConfigError(file, line, path, message));
    }
  }

  /** Records a problem even if one is already recorded at that path (e.g. a duplicate key). */
  void addAlways(int line, String path, String message) {
    reported++;
    paths.add(path);
    errors.add(new ConfigError(file, line, path, message));
  }

  boolean hasErrors() {
    return !errors.isEmpty();
  }

  /** How many problems were reported so far, counting those not kept as a second at a path. */
  int count() {
    return reported;
  }

  /** Whether the key at this path was written in the file (possibly with no value). */
  boolean present(String path) {
    return index.contains(path);
  }

  /**
   * Parses an optional scalar: absent gives {@code def}; written empty, or rejected by the parser
   * (which throws {@link IllegalArgumentException} with the message), records a problem and gives
   * {@code null}.
   */
  <T> T optional(String path, String raw, T def, String expected, Function<String, T> parser) {
    if (raw == null) {
      if (present(path)) {
        add(path, "no value (expected " + expected + ")");
        return null;
      }
      return def;
    }
    try {
      return parser.apply(raw.strip());
    } catch (IllegalArgumentException e) {
      add(path, e.getMessage());
      return null;
    }
  }

  /** Like {@link #optional} but an absent key is a problem too. */
  <T> T required(String path, String raw, String expected, Function<String, T> parser) {
    if (raw == null && !present(path)) {
      add(path, "missing (expected " + expected + ")");
      return null;
    }
    return optional(path, raw, null, expected, parser);
  }

  ConfigException exception() {
    List<ConfigError> sorted = new ArrayList<>(errors);
    sorted.sort(Comparator.comparingInt((ConfigError e) -> e.line() < 0 ? Integer.MAX_VALUE : e.line()));
    return new ConfigException(sorted);
  }
}
