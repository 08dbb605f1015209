package dev.llmgw.core.config;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * The exact response cache's settings ({@code cache} in gateway.yaml): which aliases and tiers are
 * cached, the bounds, the scope and which requests qualify. {@link #off()} when the section is absent.
 *
 * @param models            aliases whose requests are cached (the primary candidate's alias)
 * @param tiers             tiers whose requests are cached
 * @param tierLines         the line of each tier in gateway.yaml (checked against routing.yaml later)
 * @param ttl               time an entry is served after it was stored
 * @param maxBytes          bound on the cached bodies' total size
 * @param maxEntryBytes     a response over this is not cached
 * @param perTeam           true: an entry is only served to the team (else the key) that filled it
 * @param deterministicOnly true: only temperature 0 or a seed (embeddings always qualify)
 */
public record CacheSettings(Set<String> models, Set<String> tiers, Map<String, Integer> tierLines, Duration ttl,
    long maxBytes, int maxEntryBytes, boolean perTeam, boolean deterministicOnly) {

  public static final Duration DEFAULT_TTL = Duration.ofMinutes(10);
  public static final long DEFAULT_MAX_BYTES = 64L << 20;
  public static final int DEFAULT_MAX_ENTRY_BYTES = 2 << 20;

  public CacheSettings {
    models = Set.copyOf(models);
    tiers = Set.copyOf(tiers);
    tierLines = Map.copyOf(tierLines);
  }

  /** No cache. */
  public static CacheSettings off() {
    return new CacheSettings(Set.of(), Set.of(), Map.of(), DEFAULT_TTL, DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRY_BYTES,
        true, true);
  }

  /** Whether any alias or tier is cached. */
  public boolean enabled() {
    return !models.isEmpty() || !tiers.isEmpty();
  }

  /** Whether a request for {@code alias} (the primary candidate) in {@code tier} (or null) is cached. */
  public boolean covers(String alias, String tier) {
    return models.contains(alias) || tier != null && tiers.contains(tier);
  }

  /** The same bounds (a reload that keeps them keeps the cached entries). */
  public boolean sameBounds(CacheSettings o) {
    return o != null && ttl.equals(o.ttl) && maxBytes == o.maxBytes;
  }
}
