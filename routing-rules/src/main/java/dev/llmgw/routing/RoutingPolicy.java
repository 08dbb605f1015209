package dev.llmgw.routing;

import dev.llmgw.routing.semantic.SemanticScores;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

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
  private final Classifier classifier;
  private final Map<String, String> signalOfRule = new HashMap<>();
  private final Map<String, RouteDecision> fallbacks = new HashMap<>();
  private final int signals;

  /**
   * @param targets     tier to targets, in file order
   * @param forceHeader lower-case header that may force a tier, or {@code null} when not allowed
   */
  RoutingPolicy(int version, String defaultTier, Map<String, List<String>> targets,
      List<CompiledRule> rules, Set<String> pinnedAliases, String forceHeader,
      Classifier classifier) {
    this.version = version;
    this.defaultTier = defaultTier;
    Map<String, List<String>> copy = new LinkedHashMap<>();
    targets.forEach((tier, list) -> copy.put(tier, List.copyOf(list)));
    this.targets = copy;
    this.tiers = List.copyOf(copy.keySet());
    this.rules = rules.toArray(new CompiledRule[0]);
    this.forceHeader = forceHeader;
    this.decisions = new DecisionTable(defaultTier, copy, pinnedAliases);
    this.classifier = classifier == null ? Classifier.NONE : classifier;
    int all = 0;
    for (CompiledRule r : this.rules) {
      int s = r.when().signals();
      all |= s;
      signalOfRule.put(r.name(), (s & Condition.JUDGE) != 0 ? SIGNAL_JUDGE
          : (s & Condition.SEMANTIC) != 0 ? SIGNAL_SEMANTIC : SIGNAL_RULE);
    }
    this.signals = all;
    copy.forEach((tier, list) -> fallbacks.put(tier,
        DecisionTable.routed(tier, RouteDecision.FALLBACK, list)));
  }

  /**
   * Regex searches of any policy's rules given up after their step budget since the process started
   * (each read as "no match"; see {@code BoundedFind}): a rule whose regex backtracks too much.
   */
  public static long regexSearchesAbandoned() {
    return BoundedFind.abandoned();
  }

  /** {@link #signal} of a decision by a rule that reads only the request's fields. */
  public static final String SIGNAL_RULE = "rule";
  /** {@link #signal} of a decision by a rule with a semantic condition. */
  public static final String SIGNAL_SEMANTIC = "semantic";
  /** {@link #signal} of a decision by a rule with a judge condition. */
  public static final String SIGNAL_JUDGE = "judge";

  /**
   * What decided: {@code rule}, {@code semantic} or {@code judge} (the costliest signal the matching
   * rule reads), or {@code default}, {@code forced-by-header}, {@code pinned}, {@code
   * classifier-fallback}. A bounded set: usable as a metric label.
   */
  public String signal(RouteDecision d) {
    String s = signalOfRule.get(d.rule());
    return s != null ? s : d.rule();
  }

  /** The classifier section: example index, judge, safe tier. */
  public Classifier classifier() {
    return classifier;
  }

  /** Whether any rule reads a semantic score. */
  public boolean usesSemantic() {
    return (signals & Condition.SEMANTIC) != 0;
  }

  /** Whether any rule reads a judge verdict. */
  public boolean usesJudge() {
    return (signals & Condition.JUDGE) != 0;
  }

  /**
   * Scores the request against the examples (embedding its segments: milliseconds of CPU, never on
   * an event loop), for {@link RequestFeatures#semantic(SemanticScores)}; when the request already
   * has scores (a condition found them too close to its threshold), the second model's opinion.
   */
  public SemanticScores computeSemantic(RequestFeatures f) {
    if (classifier.semantic() == null) {
      throw new IllegalStateException("no semantic classifier configured");
    }
    if (f.hasSemantic()) {
      // a condition found the first model's scores too close to its threshold
      return classifier.semantic().refine(f.semantic(), f.segments());
    }
    return classifier.semantic().score(f.segments());
  }

  /**
   * The decision of a request whose signal could not be had (timed out, failed, refused): {@code
   * tier}, rule {@value RouteDecision#FALLBACK}; a pinned model stays pinned.
   *
   * @throws IllegalArgumentException when {@code tier} is not configured
   */
  public RouteDecision fallback(RequestFeatures f, String tier) {
    RouteDecision d = fallbacks.get(tier);
    if (d == null) {
      throw new IllegalArgumentException("tier: " + tier);
    }
    String model = f.model();
    return decisions.isPinned(model) ? decisions.pinned(model, tier, false) : d;
  }

  /**
   * {@link #decide}, computing every signal a rule reaches on this thread (blocking: the judge is a
   * model call). For {@code explain}, {@code eval} and tests; never on an event loop.
   *
   * @param judge asks the judge; returns a tier name, or {@code null} when it failed or timed out
   *              (the request then gets the safe tier, or {@code safeDefault} when none is set)
   */
  public RouteDecision decideBlocking(RequestFeatures f, Function<RequestFeatures, String> judge,
      String safeDefault) {
    while (true) {
      try {
        return decide(f);
      } catch (SignalNeeded n) {
        RouteDecision fb = supply(f, n, judge, safeDefault);
        if (fb != null) {
          return fb;
        }
      }
    }
  }

  /** {@link #explain} with signals computed as {@link #decideBlocking} does. */
  public RouteDecision explainBlocking(RequestFeatures f, Function<RequestFeatures, String> judge,
      String safeDefault) {
    while (true) {
      try {
        return explain(f);
      } catch (SignalNeeded n) {
        RouteDecision fb = supply(f, n, judge, safeDefault);
        if (fb != null) {
          List<TraceStep> trace = List.of(new TraceStep(RouteDecision.FALLBACK, true,
              "the " + n.kind().name().toLowerCase(java.util.Locale.ROOT)
                  + " signal failed: safe tier '" + fb.tier() + "'"));
          return fb.withTrace(trace);
        }
      }
    }
  }

  /** Computes the needed signal onto {@code f}; returns the fallback decision when it failed. */
  private RouteDecision supply(RequestFeatures f, SignalNeeded n,
      Function<RequestFeatures, String> judge, String safeDefault) {
    String safe = classifier.safeTier() != null ? classifier.safeTier() : safeDefault;
    if (n.kind() == SignalNeeded.Kind.SEMANTIC) {
      f.semantic(computeSemantic(f));
      return null;
    }
    String verdict = judge == null ? null : judge.apply(f);
    if (verdict == null || !targets.containsKey(verdict)) {
      return fallback(f, safe);
    }
    f.judgeVerdict(verdict);
    return null;
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
