package dev.llmgw.core.resilience;

/**
 * What went wrong with one attempt, and what follows from it. Everything downstream — retry,
 * fallback, circuit breaker, the client's status, log level and metric tag — reads these flags;
 * {@link FailureClassifier} is the one place that decides the class.
 *
 * <table>
 *   <caption>decisions per class</caption>
 *   <tr><th>class</th><th>retry same backend</th><th>fall back</th><th>counts against backend</th></tr>
 *   <tr><td>CALLER_FAULT</td><td>no</td><td>no</td><td>no</td></tr>
 *   <tr><td>RATE_LIMITED</td><td>yes (Retry-After if it fits)</td><td>yes</td><td>no</td></tr>
 *   <tr><td>QUOTA_EXHAUSTED</td><td>no</td><td>yes</td><td>yes</td></tr>
 *   <tr><td>OVERLOADED</td><td>yes</td><td>yes</td><td>yes</td></tr>
 *   <tr><td>PROVIDER_AUTH</td><td>no</td><td>yes</td><td>yes</td></tr>
 *   <tr><td>CONNECT_FAILURE</td><td>yes</td><td>yes</td><td>yes</td></tr>
 *   <tr><td>CONNECT_TIMEOUT</td><td>yes</td><td>yes</td><td>yes</td></tr>
 *   <tr><td>TTFB_TIMEOUT</td><td>no (slow failures are not retried)</td><td>yes</td><td>yes</td></tr>
 *   <tr><td>IDLE_TIMEOUT</td><td>no</td><td>yes</td><td>yes</td></tr>
 *   <tr><td>TOTAL_TIMEOUT</td><td>no</td><td>yes</td><td>yes</td></tr>
 *   <tr><td>CONTEXT_LENGTH</td><td>no</td><td>only to a larger context</td><td>no</td></tr>
 *   <tr><td>MALFORMED_RESPONSE</td><td>no</td><td>yes</td><td>yes</td></tr>
 *   <tr><td>UNAVAILABLE</td><td>no</td><td>yes</td><td>no (breaker open, bulkhead or rate limit full)</td></tr>
 * </table>
 */
public enum FailureClass {
  /** 400/404/413/422 caused by the request itself: the same request fails everywhere. */
  CALLER_FAULT("caller_fault", false, false, false, false),
  /** 429 without quota exhaustion: transient, honour Retry-After. */
  RATE_LIMITED("rate_limited", true, true, false, false),
  /** 429 {@code insufficient_quota}: this provider will not recover soon. */
  QUOTA_EXHAUSTED("quota_exhausted", false, true, true, true),
  /** 5xx from the backend. */
  OVERLOADED("overloaded", true, true, true, false),
  /** 401/403 from the backend: the gateway's provider key is wrong — an operator must act. */
  PROVIDER_AUTH("provider_auth", false, true, true, true),
  /** Connection refused or reset before a response. */
  CONNECT_FAILURE("connect_failure", true, true, true, false),
  CONNECT_TIMEOUT("connect_timeout", true, true, true, false),
  /** No response head within the time-to-first-byte timeout. */
  TTFB_TIMEOUT("ttfb_timeout", false, true, true, false),
  /** Silence between two chunks longer than the idle timeout. */
  IDLE_TIMEOUT("idle_timeout", false, true, true, false),
  /** The whole exchange ran past its total timeout. */
  TOTAL_TIMEOUT("total_timeout", false, true, true, false),
  /** The prompt does not fit this model's context: only a larger one can help. */
  CONTEXT_LENGTH("context_length", false, true, false, false),
  /** The backend broke the protocol: bad HTTP, cut mid-body, garbage. */
  MALFORMED_RESPONSE("malformed_response", false, true, true, false),
  /** Not attempted: breaker open, bulkhead full, rate limit reached or health check failing. */
  UNAVAILABLE("unavailable", false, true, false, false);

  private final String tag;
  private final boolean retryable;
  private final boolean fallback;
  private final boolean countsAgainstBackend;
  private final boolean misconfiguration;

  FailureClass(String tag, boolean retryable, boolean fallback, boolean countsAgainstBackend,
      boolean misconfiguration) {
    this.tag = tag;
    this.retryable = retryable;
    this.fallback = fallback;
    this.countsAgainstBackend = countsAgainstBackend;
    this.misconfiguration = misconfiguration;
  }

  /** Metric label and header value, e.g. {@code rate_limited}. */
  public String tag() {
    return tag;
  }

  /** Worth another try on the same backend (after backoff). */
  public boolean retryable() {
    return retryable;
  }

  /** Worth trying the next backend. */
  public boolean fallback() {
    return fallback;
  }

  /** Recorded as a failure by the backend's circuit breaker. */
  public boolean countsAgainstBackend() {
    return countsAgainstBackend;
  }

  /**
   * An attempt that timed out after the provider accepted it may be billed (it read the prompt and may
   * have generated): the gateway charges its prompt, marked estimated. A refused connection, a 429 or
   * a 5xx answer is not billed by providers and costs nothing.
   */
  public boolean mayBeBilled() {
    return this == TTFB_TIMEOUT || this == IDLE_TIMEOUT || this == TOTAL_TIMEOUT;
  }

  /** Needs an operator (bad key, exhausted quota): logged at WARN with a hint. */
  public boolean misconfiguration() {
    return misconfiguration;
  }
}
