package dev.llmgw.core.route;

import java.util.List;

/**
 * Where one request may go, in order: the primary first, then its fallbacks. {@code tier} and
 * {@code rule} say why (reported in {@code x-gateway-tier} / {@code x-gateway-rule}); both are null
 * for a request that named a model directly without tier routing. {@code downgradedFrom} is the tier
 * the rules chose when the caller's soft budget moved the request one tier down (else null).
 */
public record RoutePlan(String tier, String rule, List<Route> candidates, String downgradedFrom) {
  public RoutePlan(String tier, String rule, List<Route> candidates) {
    this(tier, rule, candidates, null);
  }

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
