package dev.llmgw.routing;

/**
 * One compiled rule.
 *
 * @param name     the rule's name
 * @param tier     the tier it assigns
 * @param when     its condition
 * @param decision the decision it gives, built once (no trace)
 */
record CompiledRule(String name, String tier, Condition when, RouteDecision decision) {}
