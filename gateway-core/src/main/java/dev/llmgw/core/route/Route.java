package dev.llmgw.core.route;

import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.ModelAlias;

/**
 * Where one request goes: the alias it asked for, the backend and the model name sent there.
 * Tier routing (#3) produces an ordered list of these; the request path tries them in order.
 */
public record Route(ModelAlias alias, BackendSpec backend) {
  public String backendModel() {
    return alias.backendModel();
  }
}
