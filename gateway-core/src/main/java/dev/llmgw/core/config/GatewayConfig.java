package dev.llmgw.core.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The compiled, immutable gateway configuration: what {@link ConfigLoader} produces from
 * {@code gateway.yaml} once every value has been validated. Nothing here is mutated after load; a
 * reload builds a new instance and swaps it atomically.
 *
 * @param source   the file it was loaded from (for messages), or {@code null} when built in code
 * @param listener where the gateway listens
 * @param limits   request and connection limits
 * @param backends every configured backend by name, in file order (disabled ones included, see
 *                 {@link BackendSpec#enabled()})
 * @param models   the model names clients may ask for, by alias, in file order
 * @param failover bounds on one request's retries and fallbacks
 * @param economics workflow types, repair costs and the ledger's bounds
 * @param access   keys, teams, budgets, admin token and connection limits
 * @param state    where money and limits are kept (read at start only)
 * @param cache    the exact response cache ({@link CacheSettings#off()} when not configured)
 * @param tracing  OpenTelemetry traces and their export (read at start only)
 */
public record GatewayConfig(
    Path source,
    ListenerSpec listener,
    Limits limits,
    Map<String, BackendSpec> backends,
    Map<String, ModelAlias> models,
    Failover failover,
    Economics economics,
    Access access,
    StateSettings state,
    CacheSettings cache,
    TracingSettings tracing) {

  public GatewayConfig(Path source, ListenerSpec listener, Limits limits, Map<String, BackendSpec> backends,
      Map<String, ModelAlias> models, Failover failover, Economics economics, Access access, StateSettings state,
      CacheSettings cache) {
    this(source, listener, limits, backends, models, failover, economics, access, state, cache, TracingSettings.off());
  }

  public GatewayConfig(Path source, ListenerSpec listener, Limits limits, Map<String, BackendSpec> backends,
      Map<String, ModelAlias> models, Failover failover, Economics economics, Access access, StateSettings state) {
    this(source, listener, limits, backends, models, failover, economics, access, state, CacheSettings.off());
  }

  public GatewayConfig(Path source, ListenerSpec listener, Limits limits, Map<String, BackendSpec> backends,
      Map<String, ModelAlias> models, Failover failover, Economics economics, Access access) {
    this(source, listener, limits, backends, models, failover, economics, access, StateSettings.memory());
  }

  public GatewayConfig(Path source, ListenerSpec listener, Limits limits, Map<String, BackendSpec> backends,
      Map<String, ModelAlias> models, Failover failover) {
    this(source, listener, limits, backends, models, failover, Economics.defaults(), Access.openAccess());
  }

  public GatewayConfig(Path source, ListenerSpec listener, Limits limits, Map<String, BackendSpec> backends,
      Map<String, ModelAlias> models, Failover failover, Economics economics) {
    this(source, listener, limits, backends, models, failover, economics, Access.openAccess());
  }

  /** The same config with other access rules (tests). */
  public GatewayConfig withAccess(Access access) {
    return new GatewayConfig(source, listener, limits, backends, models, failover, economics, access, state, cache,
        tracing);
  }

  /** The same config with another cache (tests). */
  public GatewayConfig withCache(CacheSettings cache) {
    return new GatewayConfig(source, listener, limits, backends, models, failover, economics, access, state, cache,
        tracing);
  }

  /** The same config with other tracing settings (tests). */
  public GatewayConfig withTracing(TracingSettings tracing) {
    return new GatewayConfig(source, listener, limits, backends, models, failover, economics, access, state, cache,
        tracing);
  }

  /** The same config with another state store (tests). */
  public GatewayConfig withState(StateSettings state) {
    return new GatewayConfig(source, listener, limits, backends, models, failover, economics, access, state, cache,
        tracing);
  }


  public GatewayConfig {
    Objects.requireNonNull(listener, "listener");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(failover, "failover");
    Objects.requireNonNull(economics, "economics");
    Objects.requireNonNull(access, "access");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(cache, "cache");
    Objects.requireNonNull(tracing, "tracing");
    backends = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(backends));
    models = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(models));
  }

  /** The alias a client asked for, if it is configured (enabled or not). */
  public Optional<ModelAlias> model(String alias) {
    return Optional.ofNullable(models.get(alias));
  }

  /** The backend an alias points at; validation guarantees it exists. */
  public BackendSpec backendOf(ModelAlias alias) {
    return backends.get(alias.backend());
  }

  /** Aliases whose backend is enabled: what {@code GET /v1/models} lists. */
  public List<ModelAlias> servableModels() {
    return models.values().stream().filter(m -> backendOf(m).enabled()).toList();
  }
}
