package dev.llmgw.routing.raw;

import java.util.List;

/**
 * One entry of {@code tiers}.
 *
 * @param targets     model aliases of {@code gateway.yaml}: the first is the primary, the rest the
 *                    fallback order
 * @param description free text for readers, not used by the gateway
 */
public record TierYaml(List<String> targets, String description) {}
