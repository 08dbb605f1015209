package dev.llmgw.core.config;

import java.util.List;
import java.util.Objects;

/**
 * A model name clients may ask for, and where it goes.
 *
 * @param alias        what the client sends as {@code model}
 * @param backend      the backend's name
 * @param backendModel the model name sent to the backend (the request's {@code model} is rewritten)
 * @param ownedBy      shown as {@code owned_by} in {@code GET /v1/models}
 * @param contextTokens the model's context window in tokens, 0 when not configured (a request that
 *                     overflowed a smaller context falls back only to a model with a larger one)
 * @param fallbacks    aliases tried in order when this one fails before answering, for requests that
 *                     name this model directly (tier routing brings its own lists)
 * @param price        what its tokens cost, or {@code null} when not configured (cost then unknown,
 *                     never recorded as zero)
 */
public record ModelAlias(String alias, String backend, String backendModel, String ownedBy, int contextTokens,
    List<String> fallbacks, Price price) {

  public ModelAlias(String alias, String backend, String backendModel, String ownedBy, int contextTokens) {
    this(alias, backend, backendModel, ownedBy, contextTokens, List.of(), null);
  }

  public ModelAlias(String alias, String backend, String backendModel, String ownedBy, int contextTokens,
      List<String> fallbacks) {
    this(alias, backend, backendModel, ownedBy, contextTokens, fallbacks, null);
  }

  public ModelAlias {
    fallbacks = List.copyOf(fallbacks);
    Objects.requireNonNull(alias, "alias");
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(backendModel, "backendModel");
  }
}
