package dev.llmgw.core.config;

import dev.llmgw.core.config.raw.CacheYaml;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compiles the {@code cache} section of gateway.yaml into {@link CacheSettings}: aliases must be
 * configured, tier names well formed (that they exist is checked against routing.yaml by
 * {@link RoutingLoader}), bounds and scope valid. Every problem goes to {@link Problems}.
 */
final class CacheCompiler {
  private static final String SCOPE_EXPECTED = "team (an entry serves the team, or the key, that filled it) or"
      + " shared (one cache for every caller)";
  private static final String TIER_NAME = "[a-z0-9][a-z0-9_.-]{0,63}";

  private final Problems problems;

  CacheCompiler(Problems problems) {
    this.problems = problems;
  }

  /** The settings, {@link CacheSettings#off()} when absent, or null after a problem. */
  CacheSettings compile(CacheYaml c, Set<String> aliases) {
    if (c == null) {
      return CacheSettings.off();
    }
    Set<String> models = new LinkedHashSet<>();
    List<String> rawModels = c.models() == null ? List.of() : c.models();
    for (int i = 0; i < rawModels.size(); i++) {
      String m = rawModels.get(i);
      String path = "cache.models[" + i + "]";
      if (m == null || !aliases.contains(m.strip())) {
        problems.add(path, "'" + m + "' is not a configured model alias (expected one of: "
            + String.join(", ", aliases) + ")");
      } else if (!models.add(m.strip())) {
        problems.add(path, "'" + m + "' is listed twice (expected each alias once)");
      }
    }
    Map<String, Integer> tiers = new LinkedHashMap<>();
    List<String> rawTiers = c.tiers() == null ? List.of() : c.tiers();
    for (int i = 0; i < rawTiers.size(); i++) {
      String t = rawTiers.get(i);
      String path = "cache.tiers[" + i + "]";
      if (t == null || !t.strip().matches(TIER_NAME)) {
        problems.add(path, "'" + t + "' is not a tier name (expected a tier of routing.yaml, e.g. trivial)");
      } else if (tiers.putIfAbsent(t.strip(), problems.index().line(path)) != null) {
        problems.add(path, "'" + t + "' is listed twice (expected each tier once)");
      }
    }
    Duration ttl = problems.optional("cache.ttl", c.ttl(), CacheSettings.DEFAULT_TTL,
        "a duration, " + ConfigValues.DURATION_EXPECTED, ConfigValues::duration);
    Integer maxBytes = problems.optional("cache.maxBytes", c.maxBytes(), (int) CacheSettings.DEFAULT_MAX_BYTES,
        ConfigValues.SIZE_EXPECTED, ConfigValues::size);
    Integer maxEntry = problems.optional("cache.maxEntryBytes", c.maxEntryBytes(),
        CacheSettings.DEFAULT_MAX_ENTRY_BYTES, ConfigValues.SIZE_EXPECTED, ConfigValues::size);
    Boolean perTeam = problems.optional("cache.scope", c.scope(), true, SCOPE_EXPECTED, v -> switch (v.strip()) {
      case "team" -> true;
      case "shared" -> false;
      default -> throw new IllegalArgumentException("'" + v.strip() + "' is not a scope (expected "
          + SCOPE_EXPECTED + ")");
    });
    Boolean deterministic = problems.optional("cache.deterministicOnly", c.deterministicOnly(), true,
        "true or false", ConfigValues::bool);
    if (maxBytes != null && maxEntry != null && maxEntry > maxBytes) {
      problems.add("cache.maxEntryBytes", "'" + c.maxEntryBytes() + "' is larger than cache.maxBytes (expected at"
          + " most " + c.maxBytes() + ")");
      return null;
    }
    if (rawModels.isEmpty() && rawTiers.isEmpty()) {
      problems.add("cache", "caches nothing (expected models: [aliases] and/or tiers: [tiers]; remove the section"
          + " to turn the cache off)");
      return null;
    }
    if (ttl == null || maxBytes == null || maxEntry == null || perTeam == null || deterministic == null) {
      return null;
    }
    return new CacheSettings(models, tiers.keySet(), tiers, ttl, maxBytes, maxEntry, perTeam, deterministic);
  }
}
