package dev.llmgw.core.resilience;

import dev.llmgw.core.config.BackendSpec;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One {@link BackendGuard} per backend name. A reload that keeps a backend's spec keeps its guard
 * (breaker state and counts survive); a changed spec gets a fresh guard.
 */
public final class BackendGuards {
  private final Map<String, BackendGuard> guards = new ConcurrentHashMap<>();

  public BackendGuard guard(BackendSpec spec) {
    BackendGuard g = guards.get(spec.name());
    if (g != null && g.spec().equals(spec)) {
      return g;
    }
    return guards.compute(spec.name(), (n, old) -> old != null && old.spec().equals(spec) ? old : new BackendGuard(spec));
  }

  public Collection<BackendGuard> all() {
    return guards.values();
  }
}
