package dev.llmgw.core.config.raw;

/**
 * One workflow type as written.
 *
 * @param repairCostPerMinute US dollars per minute of human repair of this workflow's output
 */
public record WorkflowTypeYaml(String repairCostPerMinute) {}
