package dev.llmgw.core;

import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.route.ModelRouter;

/**
 * Everything a request needs from configuration, built once per config version and published
 * atomically; a request captures one snapshot when it starts and keeps it to the end.
 */
public record GatewaySnapshot(GatewayConfig config, ModelRouter router) {
  public static GatewaySnapshot of(GatewayConfig config) {
    return new GatewaySnapshot(config, new ModelRouter(config));
  }
}
