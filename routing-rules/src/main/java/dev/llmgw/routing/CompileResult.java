package dev.llmgw.routing;

import java.util.List;

/**
 * What {@link RuleCompiler#compile} produced: a policy when there was no problem, otherwise every
 * problem found (the compiler never stops at the first).
 *
 * @param policyOrNull the compiled policy, or {@code null} when {@code problems} is not empty
 * @param problems     every problem, in file order; empty when the policy compiled
 */
public record CompileResult(RoutingPolicy policyOrNull, List<RuleProblem> problems) {

  public CompileResult {
    problems = List.copyOf(problems);
    if ((policyOrNull == null) == problems.isEmpty()) {
      throw new IllegalArgumentException(
          "policyOrNull: " + policyOrNull + " (expected: a policy exactly when there is no problem)");
    }
  }

  /** Whether the policy compiled. */
  public boolean ok() {
    return policyOrNull != null;
  }
}
