package dev.llmgw.core.resilience;

/** Why a candidate backend was not tried. The tag is a bounded metric label. */
public enum Unavailable {
  UNHEALTHY("unhealthy", "health check failing"),
  BREAKER_OPEN("breaker_open", "circuit breaker open"),
  BULKHEAD_FULL("bulkhead_full", "too many concurrent calls"),
  RATE_LIMITED("rate_limited", "gateway-side rate limit reached"),
  CONTEXT_TOO_SMALL("context_too_small", "context window too small");

  private final String tag;
  private final String message;

  Unavailable(String tag, String message) {
    this.tag = tag;
    this.message = message;
  }

  public String tag() {
    return tag;
  }

  public String message() {
    return message;
  }
}
