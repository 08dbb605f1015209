package dev.llmgw.core.resilience;

import dev.llmgw.core.config.BackendSpec;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One {@link BackendGuard} per backend name. A reload that keeps a backend's spec keeps its guard
 * (breaker state and counts survive); a changed spec gets a fresh guard.
 */
public final class BackendGuards {
  private final Map<String, BackendGuard> guards = new ConcurrentHashMap<>();
  private final CircuitBreakerRegistry breakers = CircuitBreakerRegistry.ofDefaults();

  /** The breakers, registered by backend name (for metrics: state, calls, failure rate). */
  public CircuitBreakerRegistry breakers() {
    return breakers;
  }

  public BackendGuard guard(BackendSpec spec) {
    BackendGuard g = guards.get(spec.name());
    if (g != null && g.spec().equals(spec)) {
      return g;
    }
    return guards.compute(spec.name(), (n, old) -> old != null && old.spec().equals(spec) ? old : create(spec));
  }

  private BackendGuard create(BackendSpec spec) {
    CircuitBreaker cb = CircuitBreaker.of(spec.name(), BackendGuard.breakerConfig(spec.resilience().breaker()));
    if (breakers.find(spec.name()).isPresent()) {
      breakers.replace(spec.name(), cb);
    } else {
      breakers.addConfiguration(spec.name(), cb.getCircuitBreakerConfig());
      cb = breakers.circuitBreaker(spec.name(), spec.name());
    }
    return new BackendGuard(spec, cb);
  }

  public Collection<BackendGuard> all() {
    return guards.values();
  }
}
