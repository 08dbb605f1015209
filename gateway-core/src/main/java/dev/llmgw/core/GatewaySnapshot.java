package dev.llmgw.core;

import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.config.Price;
import dev.llmgw.core.route.ModelRouter;

/**
 * Everything a request needs from configuration, built once per config version and published
 * atomically; a request captures one snapshot when it starts and keeps it to the end.
 */
public record GatewaySnapshot(GatewayConfig config, ModelRouter router, Price baselinePrice) {
  public static GatewaySnapshot of(GatewayConfig config) {
    return new GatewaySnapshot(config, new ModelRouter(config), baseline(config, null));
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
