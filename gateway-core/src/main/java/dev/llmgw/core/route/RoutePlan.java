package dev.llmgw.core.route;

import dev.llmgw.core.config.TimeoutOverrides;
import java.util.List;

/**
 * Where one request may go, in order: the primary first, then its fallbacks. {@code tier} and
 * {@code rule} say why (reported in {@code x-gateway-tier} / {@code x-gateway-rule}); both are null
 * for a request that named a model directly without tier routing. {@code downgradedFrom} is the tier
 * the rules chose when the caller's soft budget moved the request one tier down (else null);
 * {@code timeouts} are the tier's overrides of its backends' timeouts; {@code signal} is what
 * decided the tier ({@code rule}, {@code semantic}, {@code judge}, {@code default}, ... see
 * {@link dev.llmgw.routing.RoutingPolicy#signal}), or null without tier routing.
 */
public record RoutePlan(String tier, String rule, List<Route> candidates, String downgradedFrom,
    TimeoutOverrides timeouts, String signal) {
  public RoutePlan(String tier, String rule, List<Route> candidates) {
    this(tier, rule, candidates, null, TimeoutOverrides.NONE);
  }

  public RoutePlan(String tier, String rule, List<Route> candidates, String downgradedFrom,
      TimeoutOverrides timeouts) {
    this(tier, rule, candidates, downgradedFrom, timeouts, null);
  }

  /** The same plan, saying which signal decided its tier. */
  public RoutePlan withSignal(String s) {
    return new RoutePlan(tier, rule, candidates, downgradedFrom, timeouts, s);
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
