package dev.llmgw.routing;

import java.util.List;

/**
 * Where one request goes.
 *
 * @param tier    the tier (forced, from the first matching rule, or the default tier)
 * @param rule    the matching rule's name, or {@value #DEFAULT}, {@value #FORCED} or {@value #PINNED}
 * @param targets model aliases to try in order: the tier's targets, or only the pinned alias
 * @param forced  the tier was forced by the request header
 * @param pinned  the client named a model alias that is pinned: {@code targets} is that alias
 * @param trace   the rules tried and why they matched or not; empty from {@link
 *                RoutingPolicy#decide}, filled by {@link RoutingPolicy#explain}
 */
public record RouteDecision(
    String tier, String rule, List<String> targets, boolean forced, boolean pinned,
    List<TraceStep> trace) {

  /** {@code rule} when no rule matched. */
  public static final String DEFAULT = "default";
  /** {@code rule} when the tier header forced the tier. */
  public static final String FORCED = "forced-by-header";
  /**
   * {@code rule} when a signal the rules needed (semantic score, judge verdict) timed out, failed or
   * was refused, and the request got the classifier's safe tier.
   */
  public static final String FALLBACK = "classifier-fallback";
  /** {@code rule} when the requested model alias is pinned. */
  public static final String PINNED = "pinned";

  public RouteDecision {
    targets = List.copyOf(targets);
    trace = List.copyOf(trace);
  }

  /** The same decision with a trace. */
  RouteDecision withTrace(List<TraceStep> steps) {
    return new RouteDecision(tier, rule, targets, forced, pinned, steps);
  }
}
