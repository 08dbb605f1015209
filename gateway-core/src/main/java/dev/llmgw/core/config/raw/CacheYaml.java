package dev.llmgw.core.config.raw;

import java.util.List;

/**
 * The {@code cache} section as written: the exact response cache (absent: off).
 *
 * @param models            aliases whose requests are cached
 * @param tiers             tiers (of routing.yaml) whose requests are cached
 * @param ttl               how long an entry is served after it was stored
 * @param maxBytes          the bodies' total size bound (least recently used leave first)
 * @param maxEntryBytes     a larger response is not cached
 * @param scope             {@code team} (an entry serves its own team only) or {@code shared}
 * @param deterministicOnly {@code true}: only requests with temperature 0 or a seed (and embeddings)
 */
public record CacheYaml(List<String> models, List<String> tiers, String ttl, String maxBytes, String maxEntryBytes,
    String scope, String deterministicOnly) {}
