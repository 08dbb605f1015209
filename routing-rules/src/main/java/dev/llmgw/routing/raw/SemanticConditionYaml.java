package dev.llmgw.routing.raw;

/**
 * {@code semantic: {tier: high-stakes, minScore: 0.6, margin: 0.02}}.
 *
 * @param tier     the tier whose examples the request is compared with
 * @param minScore the least score that matches (a cosine similarity, -1 to 1)
 * @param margin   optional: the least lead over every other tier's score
 */
public record SemanticConditionYaml(String tier, String minScore, String margin) {}
