package dev.llmgw.routing;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every trace-free {@link RouteDecision} a policy can give, built once at compile time so that
 * {@link RoutingPolicy#decide} allocates no decision: per tier when forced, per pinned alias and
 * tier (forced or not), and the default.
 */
final class DecisionTable {

  private static final List<TraceStep> NO_TRACE = List.of();

  private final RouteDecision defaultDecision;
  private final Map<String, RouteDecision> forced = new HashMap<>();
  private final Map<String, Map<String, RouteDecision>> pinned = new HashMap<>();
  private final Map<String, Map<String, RouteDecision>> pinnedForced = new HashMap<>();

  DecisionTable(String defaultTier, Map<String, List<String>> targets, Set<String> pinnedAliases) {
    this.defaultDecision = routed(defaultTier, RouteDecision.DEFAULT, targets.get(defaultTier));
    for (Map.Entry<String, List<String>> t : targets.entrySet()) {
      forced.put(t.getKey(), new RouteDecision(t.getKey(), RouteDecision.FORCED, t.getValue(), true,
          false, NO_TRACE));
    }
    for (String alias : pinnedAliases) {
      Map<String, RouteDecision> byTier = new HashMap<>();
      Map<String, RouteDecision> byTierForced = new HashMap<>();
      for (String tier : targets.keySet()) {
        byTier.put(tier, pinnedDecision(tier, alias, false));
        byTierForced.put(tier, pinnedDecision(tier, alias, true));
      }
      pinned.put(alias, byTier);
      pinnedForced.put(alias, byTierForced);
    }
  }

  static RouteDecision routed(String tier, String rule, List<String> targets) {
    return new RouteDecision(tier, rule, targets, false, false, NO_TRACE);
  }

  private static RouteDecision pinnedDecision(String tier, String alias, boolean forced) {
    return new RouteDecision(tier, RouteDecision.PINNED, List.of(alias), forced, true, NO_TRACE);
  }

  RouteDecision defaultDecision() {
    return defaultDecision;
  }

  /** The forced decision for a tier name from the header, or {@code null} when it is no tier. */
  RouteDecision forced(String tier) {
    return forced.get(tier);
  }

  boolean isPinned(String model) {
    return model != null && pinned.containsKey(model);
  }

  RouteDecision pinned(String alias, String tier, boolean forced) {
    return (forced ? pinnedForced : pinned).get(alias).get(tier);
  }
}
