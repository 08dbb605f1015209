package dev.llmgw.core.config.raw;

import java.util.List;

/**
 * One entry of the {@code models} map (the key is the alias clients send).
 *
 * @param backend       the backend's name
 * @param model         model name sent to the backend (defaults to the alias)
 * @param ownedBy       {@code owned_by} shown by {@code GET /v1/models} (defaults to the backend name)
 * @param contextTokens the model's context window in tokens, as written (defaults to 0: unknown)
 * @param fallbacks     aliases tried in order when this one fails before answering (direct requests)
 * @param price         US dollars per million tokens
 */
public record ModelYaml(String backend, String model, String ownedBy, String contextTokens, List<String> fallbacks,
    PriceYaml price) {}
