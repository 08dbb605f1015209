package dev.llmgw.routing.raw;

/**
 * One entry of {@code rules}.
 *
 * @param name        unique name, reported in the {@code x-gateway-rule} response header
 * @param tier        the tier of a request this rule matches
 * @param description free text for readers, not used by the gateway
 * @param when        the condition
 */
public record RuleYaml(String name, String tier, String description, ConditionYaml when) {}
