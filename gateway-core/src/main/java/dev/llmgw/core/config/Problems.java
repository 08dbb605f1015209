package dev.llmgw.core.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Collects every {@link ConfigError} of one file of one load. Lines come from the {@link
 * LocationIndex}; only the first problem at a given path is kept, so a value that failed to bind is
 * not reported again by the compiler. Another file read by the same load (the keys file) has its own
 * instance, {@link #absorb absorbed} at the end so that one exception lists everything.
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

  /** The file these problems are in (for messages that point at it from another file). */
  Path file() {
    return file;
  }

  /** {@code file:line} of a path, for messages that point at it from elsewhere. */
  String where(String path) {
    int line = index.line(path);
    return (file == null ? "<config>" : file.toString()) + (line > 0 ? ":" + line : "");
  }

  /**
   * Takes in the problems of another file read as part of this load (the keys file): they keep their
   * own file and lines, and are listed after this file's.
   */
  void absorb(Problems other) {
    reported += other.reported;
    errors.addAll(other.errors);
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

  /** Records a problem in another file this one refers to (an example file of the classifier). */
  void addIn(java.nio.file.Path other, int line, String path, String message) {
    reported++;
    errors.add(new ConfigError(other, line, path, message));
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

  /**
   * Every problem: this file's first, then those of each absorbed file, each file's in line order
   * (problems without a line last).
   */
  ConfigException exception() {
    List<Path> files = new ArrayList<>();
    files.add(file);
    errors.forEach(e -> {
      if (!files.contains(e.file())) {
        files.add(e.file());
      }
    });
    List<ConfigError> sorted = new ArrayList<>(errors);
    sorted.sort(Comparator.comparingInt((ConfigError e) -> files.indexOf(e.file()))
        .thenComparingInt(e -> e.line() < 0 ? Integer.MAX_VALUE : e.line()));
    return new ConfigException(sorted);
  }
}
