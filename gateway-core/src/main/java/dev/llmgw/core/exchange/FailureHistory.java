package dev.llmgw.core.exchange;

import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.resilience.FailureClass;
import dev.llmgw.core.resilience.FailureClassifier;
import dev.llmgw.core.resilience.FailureClassifier.Failure;
import dev.llmgw.core.resilience.LocalModelHint;
import dev.llmgw.core.resilience.Unavailable;
import dev.llmgw.core.route.RoutePlan;
import java.time.Duration;

/**
 * What went wrong so far in one exchange: the fallback trail for {@code x-gateway-fallback}
 * ({@code backend=reason, ...}), why candidates were skipped, and the failure to answer with when
 * every candidate is spent. Confined to the exchange's event loop.
 */
final class FailureHistory {
  private final StringBuilder trail = new StringBuilder();
  private final StringBuilder unavailable = new StringBuilder();
  /** Backends this request could not reach: connection refused or timed out, unhealthy, breaker open. */
  private final java.util.Set<String> unreachable = new java.util.HashSet<>(2);
  private Failure last;
  private Duration lastRetryAfter;

  /** A candidate was not tried ({@code why}). */
  void skipped(String backend, Unavailable why) {
    if (unavailable.length() > 0) {
      unavailable.append("; ");
    }
    unavailable.append(backend).append(": ").append(why.message());
    if (last == null || last.failureClass() == FailureClass.UNAVAILABLE) {
      last = FailureClassifier.unavailable(backend, why.message());
    }
    if (why == Unavailable.UNHEALTHY || why == Unavailable.BREAKER_OPEN) {
      unreachable.add(backend);
    }
    left(backend, "unavailable");
  }

  /** An attempt on {@code backend} failed before the response started. */
  void failed(String backend, Failure failure, Duration retryAfter) {
    last = failure;
    lastRetryAfter = retryAfter;
    if (failure.failureClass() == FailureClass.CONNECT_FAILURE
        || failure.failureClass() == FailureClass.CONNECT_TIMEOUT) {
      unreachable.add(backend);
    }
  }

  /** The exchange left {@code backend} for the next candidate because of {@code reason}. */
  void left(String backend, String reason) {
    if (trail.length() > 0) {
      trail.append(", ");
    }
    trail.append(backend).append('=').append(reason);
  }

  /**
   * The exchange goes to the alias of last resort ({@code failover.lastResort}): marked in the trail
   * as {@code last-resort=<alias>}, after the backends it left.
   */
  void lastResort(String alias) {
    left("last-resort", alias);
  }

  /** The fallback trail, or null when the first candidate answered. */
  String trail() {
    return trail.length() == 0 ? null : trail.toString();
  }

  /**
   * Every candidate is spent: the most telling error; a {@code backend_unavailable} one says how to
   * point the gateway at a model when the plan's local model backends could not be reached
   * ({@link LocalModelHint}).
   */
  GatewayError finalError(RoutePlan plan, LocalModelHint hint) {
    GatewayError e = finalError();
    if (!"backend_unavailable".equals(e.code()) || unreachable.isEmpty()) {
      return e;
    }
    java.util.List<BackendSpec> backends = new java.util.ArrayList<>(plan.candidates().size() + 1);
    plan.candidates().forEach(r -> backends.add(r.backend()));
    if (plan.lastResort() != null) {
      backends.add(plan.lastResort().backend());
    }
    String sentence = hint.forUnavailable(backends, unreachable::contains);
    return sentence == null ? e : e.withAdvice(sentence);
  }

  /** Every candidate is spent: the most telling error. */
  GatewayError finalError() {
    if (last == null) {
      return GatewayError.unavailable("No backend could take the request.");
    }
    if (last.failureClass() == FailureClass.UNAVAILABLE) {
      return GatewayError.noBackendAvailable(unavailable.toString());
    }
    return last.clientError();
  }

  /** The class of the last failure (UNAVAILABLE when every candidate was skipped; null before any). */
  FailureClass lastClass() {
    return last == null ? null : last.failureClass();
  }

  /** The {@code Retry-After} to pass on with {@link #finalError()}: a provider's, when it rate-limited. */
  Duration finalRetryAfter() {
    return last != null && last.failureClass() == FailureClass.RATE_LIMITED ? lastRetryAfter : null;
  }
}
