package dev.llmgw.core.config.raw;

/**
 * A budget as written: US dollars per period.
 *
 * @param period    {@code day} or {@code month} (default {@code day})
 * @param hard      above it requests are refused
 * @param soft      above it work is downgraded a tier
 * @param downgrade whether crossing {@code soft} downgrades (default true when soft is set)
 */
public record BudgetYaml(String period, String hard, String soft, String downgrade) {}
