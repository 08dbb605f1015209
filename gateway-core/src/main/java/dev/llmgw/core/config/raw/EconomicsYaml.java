package dev.llmgw.core.config.raw;

import java.util.Map;

/**
 * The {@code economics} section as written.
 *
 * @param workflowTypes workflow types by name, each with its repair labour cost
 * @param maxWorkflows  ledger size bound
 * @param expireAfter   ledger expiry
 * @param baselineModel the alias used as "everything on the strongest model" for savings
 */
public record EconomicsYaml(Map<String, WorkflowTypeYaml> workflowTypes, String maxWorkflows, String expireAfter,
    String baselineModel) {}
