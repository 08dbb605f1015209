package dev.llmgw.core.log;

/**
 * How a request ended. Every request ends with exactly one of these (see {@link RequestLogBuilder#end}).
 * {@link #label()} is the {@code outcome} label of the request metrics and the access log: a fixed set.
 */
public enum Outcome {
  /** Answered in full: a proxied response relayed to its end, or a local/admin endpoint's answer. */
  SERVED("ok"),
  /**
   * Refused for what the request is, before any routing: malformed HTTP (400), too slow to arrive
   * (408), too large (413), too long a request line (414) or headers (431), invalid parameters,
   * unknown path or method.
   */
  INVALID("invalid"),
  /** Refused by access control: no or a wrong key, a model or tier not allowed, rate limits, budgets. */
  REFUSED("refused"),
  /** The gateway or every backend failed to answer before the first byte: an error response. */
  FAILED("error"),
  /** The response had started and was cut: an SSE error event (streams) or a truncated body. */
  STREAM_CUT("stream_error"),
  /** The client went away before its answer was complete (status 499 unless one was sent). */
  CLIENT_GONE("client_closed");

  private final String label;

  Outcome(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }

  /** Whether the request was answered in full. */
  public boolean served() {
    return this == SERVED;
  }
}
