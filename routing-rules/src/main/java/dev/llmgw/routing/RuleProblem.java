package dev.llmgw.routing;

import static java.util.Objects.requireNonNull;

/**
 * One problem found while compiling {@code routing.yaml}.
 *
 * @param path    dotted path of the offending value, e.g. {@code rules[3].when.all[1].header.name}
 *                or {@code tiers.balanced.targets[0]} ({@code [i]} for list elements); empty for the
 *                whole file
 * @param message what is wrong: the bad value and what was expected
 */
public record RuleProblem(String path, String message) {

  public RuleProblem {
    requireNonNull(path, "path");
    requireNonNull(message, "message");
  }

  /** {@code path: message}, or just the message when the path is empty. */
  @Override
  public String toString() {
    return path.isEmpty() ? message : path + ": " + message;
  }
}
