package dev.llmgw.core;

import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.config.Price;
import dev.llmgw.core.route.ModelRouter;
import dev.llmgw.routing.RoutingPolicy;
import java.time.Instant;
import java.util.List;

/**
 * Everything a request needs from configuration, built once per config version and published
 * atomically; a request captures one snapshot when it starts and keeps it to the end.
 *
 * @param version  increments with every successful (re)load; reported as {@code x-gateway-config}
 * @param loadedAt when it was built
 */
public record GatewaySnapshot(GatewayConfig config, ModelRouter router, Price baselinePrice, long version,
    Instant loadedAt) {

  /** The high-stakes tier's name, whose primary model is the default savings baseline. */
  public static final String HIGH_STAKES = "high-stakes";

  public static GatewaySnapshot of(GatewayConfig config) {
    return of(config, null, 1);
  }

  public static GatewaySnapshot of(GatewayConfig config, RoutingPolicy policy, long version) {
    return of(config, policy, java.util.Map.of(), version);
  }

  /** @param tierTimeouts per-tier timeout overrides from routing.yaml */
  public static GatewaySnapshot of(GatewayConfig config, RoutingPolicy policy,
      java.util.Map<String, dev.llmgw.core.config.TimeoutOverrides> tierTimeouts, long version) {
    return of(config, policy, tierTimeouts, dev.llmgw.core.route.ClassifierSettings.DEFAULTS, version);
  }

  /** @param classifier the classifier stage's limits from routing.yaml */
  public static GatewaySnapshot of(GatewayConfig config, RoutingPolicy policy,
      java.util.Map<String, dev.llmgw.core.config.TimeoutOverrides> tierTimeouts,
      dev.llmgw.core.route.ClassifierSettings classifier, long version) {
    String defaultBaseline = null;
    if (policy != null) {
      List<String> tiers = policy.tiers();
      String top = tiers.contains(HIGH_STAKES) ? HIGH_STAKES : tiers.get(tiers.size() - 1);
      defaultBaseline = policy.targets(top).get(0);
    }
    return new GatewaySnapshot(config, new ModelRouter(config, policy, tierTimeouts, classifier),
        baseline(config, defaultBaseline), version, Instant.now());
  }

  public RoutingPolicy policy() {
    return router.policy();
  }

  /**
   * The savings baseline's price: the configured {@code economics.baselineModel}, else the given
   * default alias (the high-stakes tier's primary), else the most expensive priced model.
   */
  static Price baseline(GatewayConfig config, String defaultAlias) {
    String alias = config.economics().baselineModel() != null ? config.economics().baselineModel() : defaultAlias;
    ModelAlias m = alias == null ? null : config.models().get(alias);
    if (m != null && m.price() != null) {
      return m.price();
    }
    return config.models().values().stream().map(ModelAlias::price).filter(java.util.Objects::nonNull)
        .max(java.util.Comparator.comparingDouble(p -> p.input() + p.output())).orElse(null);
  }
}
