package dev.llmgw.routing.raw;

import java.util.List;
import java.util.Map;

/**
 * One entry of {@code tiers}.
 *
 * @param targets     model aliases of {@code gateway.yaml}: the first is the primary, the rest the
 *                    fallback order
 * @param description free text for readers, not used by the gateway
 * @param timeouts    per-tier overrides of the backends' timeouts ({@code connect}, {@code firstByte},
 *                    {@code idle}, {@code total}, as durations such as {@code 120s}); checked and
 *                    applied by the gateway, which owns timeouts — this module only carries them
 */
public record TierYaml(List<String> targets, String description, Map<String, String> timeouts) {}
