package dev.llmgw.core.route;

import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.config.TimeoutOverrides;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.routing.FeatureExtractor;
import dev.llmgw.routing.RequestFeatures;
import dev.llmgw.routing.RouteDecision;
import dev.llmgw.routing.RoutingPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Turns a request into its {@link RoutePlan}, from one config snapshot.
 *
 * <ul>
 *   <li>With a routing policy: {@code auto} (and aliases routed by policy) are classified into a tier
 *       whose targets become the candidates; a pinned alias goes to that alias and its own fallbacks,
 *       the tier still being reported. A caller over its soft budget is downgraded one tier.
 *   <li>Without one: the named alias and its fallbacks.
 * </ul>
 *
 * Candidates whose backend is disabled are left out. Thread-safe and immutable.
 */
public final class ModelRouter {
  /** The model name that asks the gateway to choose. */
  public static final String AUTO = "auto";

  private final GatewayConfig config;
  private final RoutingPolicy policy;
  private final java.util.Map<String, TimeoutOverrides> tierTimeouts;
  private final ClassifierSettings classifierSettings;

  public ModelRouter(GatewayConfig config) {
    this(config, null, java.util.Map.of());
  }

  public ModelRouter(GatewayConfig config, RoutingPolicy policy) {
    this(config, policy, java.util.Map.of());
  }

  public ModelRouter(GatewayConfig config, RoutingPolicy policy, java.util.Map<String, TimeoutOverrides> tierTimeouts) {
    this(config, policy, tierTimeouts, ClassifierSettings.DEFAULTS);
  }

  public ModelRouter(GatewayConfig config, RoutingPolicy policy, java.util.Map<String, TimeoutOverrides> tierTimeouts,
      ClassifierSettings classifierSettings) {
    this.config = config;
    this.policy = policy;
    this.tierTimeouts = java.util.Map.copyOf(tierTimeouts);
    this.classifierSettings = classifierSettings;
  }

  /** The classifier stage's limits from routing.yaml. */
  public ClassifierSettings classifierSettings() {
    return classifierSettings;
  }

  public GatewayConfig config() {
    return config;
  }

  public RoutingPolicy policy() {
    return policy;
  }

  /** The plan for a request that names a model directly (no policy): the alias, then its fallbacks. */
  public RoutePlan plan(String model) {
    Route primary = route(model);
    return withLastResort(new RoutePlan(null, null, withFallbacks(primary)));
  }

  /**
   * Adds {@code failover.lastResort} to a plan: its route when the alias is configured, its backend
   * enabled and it is not one of the plan's candidates already.
   */
  private RoutePlan withLastResort(RoutePlan plan) {
    String alias = config.failover().lastResort();
    ModelAlias a = alias == null ? null : config.models().get(alias);
    if (a == null || !config.backendOf(a).enabled()) {
      return plan;
    }
    for (Route r : plan.candidates()) {
      if (r.alias().alias().equals(alias)) {
        return plan;
      }
    }
    return plan.withLastResort(new Route(a, config.backendOf(a)));
  }

  /**
   * The plan for a request.
   *
   * <p>Signals are computed on the calling thread (semantic scores: milliseconds of CPU), and a judge
   * counts as failed: for tools and tests, never on an event loop; the request path decides with
   * {@link #features}, {@link RoutingPolicy#decide} and {@link TierClassifier}.
   *
   * @param headers lower-case header name to value (or null)
   * @throws GatewayException 404 for an unknown model, 403 for what the caller may not use
   */
  public RoutePlan plan(ParsedRequest request, Function<String, String> headers, Caller caller) {
    RequestFeatures features = features(request, headers, caller);
    if (features == null) {
      return plan(request.model());
    }
    return plan(request, caller, policy.decideBlocking(features, null, safeTier(caller)));
  }

  /**
   * The first half of {@link #plan(ParsedRequest, Function, Caller)}: checks the model against the
   * caller and the config and gives what the rules will read, or {@code null} when there is no
   * routing policy (then {@link #plan(String)} applies). Decide with {@link RoutingPolicy#decide}
   * (which may need a signal: {@link TierClassifier}), then {@link #plan(ParsedRequest, Caller,
   * RouteDecision)}.
   *
   * @throws GatewayException 404 for an unknown model, 403 for what the caller may not use
   */
  public RequestFeatures features(ParsedRequest request, Function<String, String> headers, Caller caller) {
    String model = request.model();
    if (!caller.mayUseModel(model)) {
      throw new GatewayException(forbidden("model '" + model + "'"));
    }
    if (policy == null) {
      return null;
    }
    boolean known = config.models().containsKey(model);
    if (!known && !AUTO.equals(model)) {
      throw new GatewayException(GatewayError.modelNotFound(model, null));
    }
    String forceHeader = policy.forceTierHeader();
    Function<String, String> visible = caller.mayForceTier() || forceHeader == null ? headers
        : name -> name.equals(forceHeader) ? null : headers.apply(name);
    return FeatureExtractor.extract(request.json(), visible, caller.keyName(), caller.team());
  }

  /**
   * The tier a request gets when a classifier signal cannot be had: the policy's {@code safeTier}
   * when the caller may use it, else the highest tier (last in file order) the caller may use.
   */
  public String safeTier(Caller caller) {
    String configured = policy.classifier().safeTier();
    if (configured != null && caller.mayUseTier(configured)) {
      return configured;
    }
    List<String> tiers = policy.tiers();
    for (int i = tiers.size() - 1; i >= 0; i--) {
      if (caller.mayUseTier(tiers.get(i))) {
        return tiers.get(i);
      }
    }
    return tiers.get(tiers.size() - 1);
  }

  /**
   * The second half of {@link #plan(ParsedRequest, Function, Caller)}: the plan for a decision.
   *
   * @throws GatewayException 403 for a tier the caller may not use, 503 when no backend serves it
   */
  public RoutePlan plan(ParsedRequest request, Caller caller, RouteDecision d) {
    String model = request.model();
    String tier = d.tier();
    String rule = d.rule();
    String downgradedFrom = null;
    if (caller.downgrade() && !d.pinned()) {
      String lower = cheaperTier(tier, caller);
      if (lower != null) {
        downgradedFrom = tier;
        tier = lower;
      }
    }
    if (!caller.mayUseTier(tier)) {
      throw new GatewayException(forbidden("tier '" + tier + "' (rule " + d.rule() + ")"));
    }
    TimeoutOverrides overrides = tierTimeouts.getOrDefault(tier, TimeoutOverrides.NONE);
    if (d.pinned()) {
      return withLastResort(new RoutePlan(tier, rule, withFallbacks(route(model)), null, overrides)
          .withSignal(policy.signal(d)));
    }
    List<Route> candidates = new ArrayList<>();
    for (String target : policy.targets(tier)) {
      ModelAlias a = config.models().get(target);
      if (a != null && config.backendOf(a).enabled()) {
        candidates.add(new Route(a, config.backendOf(a)));
      }
    }
    if (candidates.isEmpty()) {
      throw new GatewayException(GatewayError.unavailable("No enabled backend serves tier '" + tier + "' (targets: "
          + String.join(", ", policy.targets(tier)) + ")."));
    }
    return withLastResort(new RoutePlan(tier, rule, candidates, downgradedFrom, overrides)
        .withSignal(policy.signal(d)));
  }

  /**
   * The same decision as {@link #plan(ParsedRequest, Function, Caller)}, with the routing policy's
   * trace (every rule tried, and why it matched or not); calls no backend.
   *
   * @return the plan (or the refusal it would give) and the trace
   */
  public Explanation explain(ParsedRequest request, Function<String, String> headers, Caller caller) {
    return explain(request, headers, caller, null);
  }

  /**
   * {@link #explain(ParsedRequest, Function, Caller)}, asking the judge through {@code judge} when a
   * rule reaches it (blocking: never on an event loop). Semantic scores are computed here.
   *
   * @param judge the judge, or {@code null} to treat it as failed (the safe tier)
   */
  public Explanation explain(ParsedRequest request, Function<String, String> headers, Caller caller,
      Function<RequestFeatures, String> judge) {
    List<dev.llmgw.routing.TraceStep> trace = List.of();
    RouteDecision decision = null;
    try {
      RequestFeatures features = features(request, headers, caller);
      if (features == null) {
        return new Explanation(plan(request.model()), null, trace);
      }
      decision = policy.explainBlocking(features, judge, safeTier(caller));
      trace = decision.trace();
      return new Explanation(plan(request, caller, decision), null, trace);
    } catch (GatewayException e) {
      return new Explanation(null, e.error(), trace);
    }
  }

  /** A decision with its reasons: the plan, or the error the request would get. */
  public record Explanation(RoutePlan plan, GatewayError refusal, List<dev.llmgw.routing.TraceStep> trace) {}

  /** The tier below {@code tier} in the policy's order, or null at the bottom. */
  /**
   * Where a soft-budget downgrade moves a request: the tier the caller may use whose primary model
   * (first enabled target with a price) is the cheapest, provided it costs less than {@code tier}'s,
   * by the price table (a reference request of 1,000 prompt and 300 output tokens); null when none is
   * cheaper or prices are unknown. File order plays no part.
   */
  String cheaperTier(String tier, Caller caller) {
    double current = primaryCost(tier);
    if (Double.isNaN(current)) {
      return null;
    }
    String best = null;
    double bestCost = current;
    for (String t : policy.tiers()) {
      double c = primaryCost(t);
      if (!t.equals(tier) && caller.mayUseTier(t) && !Double.isNaN(c) && c < bestCost) {
        best = t;
        bestCost = c;
      }
    }
    return best;
  }

  private double primaryCost(String tier) {
    for (String target : policy.targets(tier)) {
      ModelAlias a = config.models().get(target);
      if (a != null && config.backendOf(a).enabled()) {
        return a.price() == null ? Double.NaN : a.price().cost(1000, 0, 300);
      }
    }
    return Double.NaN;
  }

  private List<Route> withFallbacks(Route primary) {
    List<Route> candidates = new ArrayList<>();
    candidates.add(primary);
    for (String fb : primary.alias().fallbacks()) {
      ModelAlias a = config.models().get(fb);
      if (a != null && config.backendOf(a).enabled()) {
        candidates.add(new Route(a, config.backendOf(a)));
      }
    }
    return candidates;
  }

  /**
   * @throws GatewayException 404 {@code model_not_found} when the alias is unknown or its backend is
   *     disabled (the message says why, without secrets)
   */
  public Route route(String model) {
    ModelAlias alias = config.models().get(model);
    if (alias == null) {
      throw new GatewayException(GatewayError.modelNotFound(model, null));
    }
    BackendSpec backend = config.backendOf(alias);
    if (!backend.enabled()) {
      throw new GatewayException(GatewayError.modelNotFound(model,
          "Its backend '" + backend.name() + "' is disabled" + (backend.disabledReason() == null
              ? "." : " (" + backend.disabledReason() + ").")));
    }
    return new Route(alias, backend);
  }

  private static GatewayError forbidden(String what) {
    return GatewayError.forbidden("This key may not use " + what + ".");
  }
}
