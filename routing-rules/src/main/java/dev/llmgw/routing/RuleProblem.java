package dev.llmgw.routing;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * One problem found while compiling {@code routing.yaml}, or a file it refers to.
 *
 * @param path    dotted path of the offending value, e.g. {@code rules[3].when.all[1].header.name}
 *                or {@code tiers.balanced.targets[0]} ({@code [i]} for list elements); empty for the
 *                whole file
 * @param message what is wrong: the bad value and what was expected
 * @param file    the file the problem is in when it is not {@code routing.yaml} itself (an example
 *                file of the semantic classifier), else {@code null}
 * @param line    the 1-based line in {@code file}, or -1 when unknown or when {@code file} is null
 */
public record RuleProblem(String path, String message, Path file, int line) {

  public RuleProblem {
    requireNonNull(path, "path");
    requireNonNull(message, "message");
  }

  /** A problem in {@code routing.yaml} itself. */
  public RuleProblem(String path, String message) {
    this(path, message, null, -1);
  }

  /** {@code path: message}, or just the message when the path is empty. */
  @Override
  public String toString() {
    String where = file == null ? "" : file + (line > 0 ? ":" + line : "") + ": ";
    return where + (path.isEmpty() ? message : path + ": " + message);
  }
}
