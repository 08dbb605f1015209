package dev.llmgw.routing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A compiled {@code routing.yaml}: immutable and thread-safe, so one instance can serve every request
 * of a config snapshot. Built only by {@link RuleCompiler}.
 *
 * <pre>
 *   request ──► forced by header? ──yes──► tier from header
 *                    │ no
 *                    ▼
 *              rules in order, first match wins ──none──► defaultTier
 *                    │
 *                    ▼
 *   model is a pinned alias? ──yes──► targets = [that alias], rule "pinned"
 *                    │ no
 *                    ▼
 *              targets = the tier's targets (primary first, then fallbacks)
 * </pre>
 */
public final class RoutingPolicy {

  private final int version;
  private final String defaultTier;
  private final List<String> tiers;
  private final Map<String, List<String>> targets;
  private final CompiledRule[] rules;
  private final String forceHeader;
  private final DecisionTable decisions;

  /**
   * @param targets     tier to targets, in file order
   * @param forceHeader lower-case header that may force a tier, or {@code null} when not allowed
   */
  RoutingPolicy(int version, String defaultTier, Map<String, List<String>> targets,
      List<CompiledRule> rules, Set<String> pinnedAliases, String forceHeader) {
    this.version = version;
    this.defaultTier = defaultTier;
    Map<String, List<String>> copy = new LinkedHashMap<>();
    targets.forEach((tier, list) -> copy.put(tier, List.copyOf(list)));
    this.targets = copy;
    this.tiers = List.copyOf(copy.keySet());
    this.rules = rules.toArray(new CompiledRule[0]);
    this.forceHeader = forceHeader;
    this.decisions = new DecisionTable(defaultTier, copy, pinnedAliases);
  }

  /**
   * The decision for one request, without a trace. Allocates no decision (they are prebuilt); the
   * only work is evaluating rules up to the first match, which reads features lazily.
   */
  public RouteDecision decide(RequestFeatures f) {
    RouteDecision forced = forced(f);
    String model = f.model();
    boolean pinned = decisions.isPinned(model);
    if (forced != null) {
      return pinned ? decisions.pinned(model, forced.tier(), true) : forced;
    }
    CompiledRule rule = firstMatch(f);
    if (pinned) {
      return decisions.pinned(model, rule == null ? defaultTier : rule.tier(), false);
    }
    return rule == null ? decisions.defaultDecision() : rule.decision();
  }

  /**
   * The same decision as {@link #decide}, with the trace of every step: the forcing header (when
   * forcing is allowed and the header was sent), every rule tried with why it matched or not, the
   * default when no rule matched, and pinning.
   */
  public RouteDecision explain(RequestFeatures f) {
    List<TraceStep> trace = new ArrayList<>();
    RouteDecision forced = forced(f);
    if (forceHeader != null && f.header(forceHeader) != null) {
      String sent = f.header(forceHeader);
      trace.add(new TraceStep(RouteDecision.FORCED, forced != null, forced != null
          ? "header " + forceHeader + " names tier '" + forced.tier() + "'"
          : "header " + forceHeader + " '" + sent + "' names no configured tier (expected one of: "
              + String.join(", ", tiers) + "); ignored"));
    }
    if (forced == null) {
      CompiledRule match = null;
      for (CompiledRule r : rules) {
        boolean matched = r.when().test(f);
        trace.add(new TraceStep(r.name(), matched,
            (matched ? "tier " + r.tier() + ": " : "") + r.when().explain(f)));
        if (matched) {
          match = r;
          break;
        }
      }
      if (match == null) {
        trace.add(new TraceStep(RouteDecision.DEFAULT, true,
            "no rule matched: default tier '" + defaultTier + "'"));
      }
    }
    String model = f.model();
    if (decisions.isPinned(model)) {
      trace.add(new TraceStep(RouteDecision.PINNED, true,
          "model '" + model + "' is pinned: served by that model only"));
    }
    return decide(f).withTrace(trace);
  }

  private RouteDecision forced(RequestFeatures f) {
    if (forceHeader == null) {
      return null;
    }
    String tier = f.header(forceHeader);
    return tier == null ? null : decisions.forced(tier.strip());
  }

  private CompiledRule firstMatch(RequestFeatures f) {
    for (CompiledRule r : rules) {
      if (r.when().test(f)) {
        return r;
      }
    }
    return null;
  }

  /** Tier names, in file order. */
  public List<String> tiers() {
    return tiers;
  }

  /**
   * A tier's targets: model aliases, primary first, then the fallback order.
   *
   * @throws IllegalArgumentException when {@code tier} is not configured
   */
  public List<String> targets(String tier) {
    List<String> t = targets.get(tier);
    if (t == null) {
      throw new IllegalArgumentException(
          "tier: " + tier + " (expected one of: " + String.join(", ", tiers) + ")");
    }
    return t;
  }

  /** The tier of a request no rule matches. */
  public String defaultTier() {
    return defaultTier;
  }

  /** The policy's {@code version}, or 0 when the file gives none. */
  public int version() {
    return version;
  }

  /** Rule names, in evaluation order. */
  public List<String> rules() {
    List<String> names = new ArrayList<>(rules.length);
    for (CompiledRule r : rules) {
      names.add(r.name());
    }
    return List.copyOf(names);
  }

  /** The header that may force a tier (lower case), or {@code null} when forcing is not allowed. */
  public String forceTierHeader() {
    return forceHeader;
  }

  /** Whether a request naming this model is pinned to it. */
  public boolean pinned(String model) {
    return decisions.isPinned(model);
  }
}
