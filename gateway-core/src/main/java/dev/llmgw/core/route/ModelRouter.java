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
