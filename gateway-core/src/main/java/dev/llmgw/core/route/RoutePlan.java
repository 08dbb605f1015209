package dev.llmgw.core.route;

import java.util.List;

/**
 * Where one request may go, in order: the primary first, then its fallbacks. {@code tier} and
 * {@code rule} say why (reported in {@code x-gateway-tier} / {@code x-gateway-rule}); both are null
 * for a request that named a model directly without tier routing.
 */
public record RoutePlan(String tier, String rule, List<Route> candidates) {
  public RoutePlan {
    candidates = List.copyOf(candidates);
    if (candidates.isEmpty()) {
      throw new IllegalArgumentException("candidates: empty (expected at least one)");
    }
  }

  public static RoutePlan single(Route route) {
    return new RoutePlan(null, null, List.of(route));
  }
}
