package dev.llmgw.core.state;

import dev.llmgw.core.config.Economics;
import dev.llmgw.core.config.StateSettings;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;

/** Opens the configured {@link StateStore} and binds its metrics. */
public final class StateStores {
  private StateStores() {}

  /**
   * @throws IllegalStateException with the file or the Redis target and the reason when the store
   *     cannot be opened (the gateway refuses to start)
   */
  public static StateStore open(StateSettings settings, Economics economics, Clock clock, MeterRegistry registry) {
    StateStore store = switch (settings.store()) {
      case MEMORY -> new MemoryStore(economics, clock);
      case EMBEDDED -> new EmbeddedStore(settings.path(), settings.flushInterval(), economics, clock);
      case REDIS -> new RedisStore(settings, economics, clock, registry);
    };
    bind(store, registry);
    return store;
  }

  private static void bind(StateStore store, MeterRegistry registry) {
    Gauge.builder("gateway.state.up", store, s -> s.health().up() ? 1 : 0)
        .description("Whether the state store (limits, budgets, ledger) answers: 1 up, 0 down")
        .tag("store", store.kind()).register(registry);
    Gauge.builder("gateway.state.degraded", store, s -> s.health().degraded() ? 1 : 0)
        .description("Whether the state store works in a degraded mode (local limits, failed writes kept for retry)")
        .tag("store", store.kind()).register(registry);
    if (store instanceof EmbeddedStore e) {
      Gauge.builder("gateway.state.pending.writes", e, EmbeddedStore::pendingWrites)
          .description("Changes to money and the ledger not yet written to the state file").register(registry);
      FunctionCounter.builder("gateway.state.write.errors", e, EmbeddedStore::writeErrors)
          .description("Failed writes of the state file (the changes are kept and retried)").register(registry);
    }
  }
}
