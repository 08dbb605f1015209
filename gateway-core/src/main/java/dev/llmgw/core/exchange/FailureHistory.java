package dev.llmgw.core.exchange;

import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.resilience.FailureClass;
import dev.llmgw.core.resilience.FailureClassifier;
import dev.llmgw.core.resilience.FailureClassifier.Failure;
import java.time.Duration;

/**
 * What went wrong so far in one exchange: the fallback trail for {@code x-gateway-fallback}
 * ({@code backend=reason, ...}), why candidates were skipped, and the failure to answer with when
 * every candidate is spent. Confined to the exchange's event loop.
 */
final class FailureHistory {
  private final StringBuilder trail = new StringBuilder();
  private final StringBuilder unavailable = new StringBuilder();
  private Failure last;
  private Duration lastRetryAfter;

  /** A candidate was not tried ({@code message} says why). */
  void skipped(String backend, String message) {
    if (unavailable.length() > 0) {
      unavailable.append("; ");
    }
    unavailable.append(backend).append(": ").append(message);
    if (last == null || last.failureClass() == FailureClass.UNAVAILABLE) {
      last = FailureClassifier.unavailable(backend, message);
    }
    left(backend, "unavailable");
  }

  /** An attempt failed before the response started. */
  void failed(Failure failure, Duration retryAfter) {
    last = failure;
    lastRetryAfter = retryAfter;
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
