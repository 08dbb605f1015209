package dev.llmgw.core.route;

import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;

/** Resolves the model a client asked for to a {@link Route}, from one config snapshot. */
public final class ModelRouter {
  private final GatewayConfig config;

  public ModelRouter(GatewayConfig config) {
    this.config = config;
  }

  /**
   * @throws GatewayException 404 {@code model_not_found} when the alias is unknown or its backend is
   *     disabled (the message says why, without secrets)
   */
  /**
   * The plan for a request that names a model directly: that alias, then its configured fallbacks
   * whose backends are enabled.
   */
  public RoutePlan plan(String model) {
    Route primary = route(model);
    if (primary.alias().fallbacks().isEmpty()) {
      return RoutePlan.single(primary);
    }
    java.util.List<Route> candidates = new java.util.ArrayList<>();
    candidates.add(primary);
    for (String fb : primary.alias().fallbacks()) {
      ModelAlias a = config.models().get(fb);
      if (a != null && config.backendOf(a).enabled()) {
        candidates.add(new Route(a, config.backendOf(a)));
      }
    }
    return new RoutePlan(null, null, candidates);
  }

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
}
