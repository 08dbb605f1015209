package dev.llmgw.core.config.raw;

/**
 * One team as written (the map key is its name).
 *
 * @param budget the budget its keys share (absent: none)
 */
public record TeamYaml(BudgetYaml budget) {}
