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
 * {@link dev.llmgw.routing.RoutingPolicy#signal}), or null without tier routing. {@code lastResort} is
 * the route of {@code failover.lastResort} when it is configured, enabled and not among the
 * candidates already: the exchange tries it once when every candidate failed before answering
 * (else null).
 */
public record RoutePlan(String tier, String rule, List<Route> candidates, String downgradedFrom,
    TimeoutOverrides timeouts, String signal, Route lastResort) {
  public RoutePlan(String tier, String rule, List<Route> candidates, String downgradedFrom,
      TimeoutOverrides timeouts, String signal) {
    this(tier, rule, candidates, downgradedFrom, timeouts, signal, null);
  }

  public RoutePlan(String tier, String rule, List<Route> candidates) {
    this(tier, rule, candidates, null, TimeoutOverrides.NONE);
  }

  public RoutePlan(String tier, String rule, List<Route> candidates, String downgradedFrom,
      TimeoutOverrides timeouts) {
    this(tier, rule, candidates, downgradedFrom, timeouts, null);
  }

  /** The same plan, saying which signal decided its tier. */
  public RoutePlan withSignal(String s) {
    return new RoutePlan(tier, rule, candidates, downgradedFrom, timeouts, s, lastResort);
  }

  /** The same plan with a route of last resort (or none). */
  public RoutePlan withLastResort(Route route) {
    return new RoutePlan(tier, rule, candidates, downgradedFrom, timeouts, signal, route);
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
