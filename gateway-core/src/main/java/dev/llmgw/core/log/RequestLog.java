package dev.llmgw.core.log;

/**
 * What one client request did, filled in along the request path and written as one access-log
 * line when its response ends. Confined to the request's event loop; never holds header values
 * (so no credential can reach the log).
 */
public final class RequestLog {
  public final long startNanos = System.nanoTime();
  public String requestId;
  public String method;
  public String path;
  public String remote;
  public int status;
  public String model;
  public String backend;
  /** The endpoint's metric label (chat_completions, completions, embeddings), or null for local endpoints. */
  public String endpoint;
  /** The configured alias that served (or last tried) the request: a bounded label, unlike {@link #model}. */
  public String alias;
  /** Time the first attempt started (gateway overhead ends here), 0 if none. */
  public long firstAttemptNanos;
  /** Workflow id as the client sent it (capped; never a metric label), or null. */
  public String workflowId;
  /** The gateway key's name (never the key), or null. */
  public String keyName;
  /** The key's team, or null. */
  public String team;
  /** Configured workflow type, {@code other}, or null when the request names no workflow. */
  public String workflowType;
  public int retries;
  public int fallbacks;
  /** Tokens of the response that served (or was cut); -1 when unknown. */
  public long promptTokens = -1;
  public long completionTokens = -1;
  public long cachedPromptTokens;
  /** True when the token counts were estimated by the gateway (the backend reported none). */
  public boolean usageEstimated;
  /** US dollars for this request (all attempts that consumed tokens), NaN when a model has no price. */
  public double cost = Double.NaN;
  /**
   * Estimated cost of attempts that failed after a provider may have accepted them (timeouts before
   * the first byte reached the client): their prompt at that model's price. Included in {@link #cost}.
   */
  public double failedAttemptCost;
  /** What the same tokens would have cost on the savings baseline model, NaN when unknown. */
  public double baselineCost = Double.NaN;
  /** The serving alias's price (null: unpriced) and the savings baseline's price (null: none). */
  public dev.llmgw.core.config.Price price;
  public dev.llmgw.core.config.Price baselinePrice;
  public String tier;
  public String rule;
  /** What decided the tier: rule, semantic, judge, default, ... (RoutingPolicy.signal). */
  public String signal;
  public int attempts;
  public boolean stream;
  public long firstByteNanos;
  public long bytesOut;
  public String errorCode;
  /** How the exchange ended: ok, error, client_closed, stream_error. */
  public String outcome = "ok";

  public double elapsedMillis() {
    return (System.nanoTime() - startNanos) / 1_000_000.0;
  }

  public double ttfbMillis() {
    return firstByteNanos == 0 ? -1 : (firstByteNanos - startNanos) / 1_000_000.0;
  }

  /** The access-log line: space-separated key=value pairs, values never containing spaces. */
  public String toLine() {
    StringBuilder sb = new StringBuilder(192);
    appendTo(sb);
    return sb.toString();
  }

  /** Appends the access-log line (without timestamp) to {@code sb}. */
  public void appendTo(StringBuilder sb) {
    sb.append("rid=").append(requestId)
        .append(" remote=").append(remote)
        .append(" method=").append(method)
        .append(" path=");
    appendSafe(sb, path);
    sb
        .append(" status=").append(status)
        .append(" outcome=").append(outcome);
    if (model != null) {
      sb.append(" model=");
      appendSafe(sb, model);
    }
    if (keyName != null) {
      sb.append(" key=").append(keyName);
    }
    if (tier != null) {
      sb.append(" tier=").append(tier).append(" rule=").append(rule);
    }
    if (backend != null) {
      sb.append(" backend=").append(backend);
    }
    if (attempts > 1) {
      sb.append(" attempts=").append(attempts);
    }
    if (stream) {
      sb.append(" stream=true");
    }
    if (errorCode != null) {
      sb.append(" error=").append(errorCode);
    }
    if (promptTokens >= 0) {
      sb.append(" tokens_in=").append(promptTokens).append(" tokens_out=").append(completionTokens);
      if (usageEstimated) {
        sb.append(" tokens_estimated=true");
      }
    }
    if (!Double.isNaN(cost)) {
      sb.append(" cost_usd=").append(java.math.BigDecimal.valueOf(cost).setScale(6, java.math.RoundingMode.HALF_UP)
          .toPlainString());
    }
    if (workflowType != null) {
      sb.append(" workflow_type=").append(workflowType);
    }
    sb.append(" bytes_out=").append(bytesOut);
    if (firstByteNanos != 0) {
      appendTenths(sb.append(" ttfb_ms="), ttfbMillis());
    }
    appendTenths(sb.append(" duration_ms="), elapsedMillis());
  }

  /** {@code 12.3}: one decimal, written as two integers (a double's toString cost more than the rest of the line). */
  static void appendTenths(StringBuilder sb, double value) {
    long tenths = Math.round(value * 10);
    if (tenths < 0) {
      sb.append('-');
      tenths = -tenths;
    }
    sb.append(tenths / 10).append('.').append((char) ('0' + tenths % 10));
  }

  /** Client-supplied strings are truncated and stripped of spaces and control characters. */
  /** Appends a client-supplied string, capped, spaces/controls/quotes replaced; clean ones in one copy. */
  static void appendSafe(StringBuilder sb, String s) {
    if (s == null) {
      sb.append('-');
      return;
    }
    int n = Math.min(s.length(), 128);
    int i = 0;
    while (i < n && isClean(s.charAt(i))) {
      i++;
    }
    sb.append(s, 0, i);
    for (; i < n; i++) {
      char c = s.charAt(i);
      sb.append(isClean(c) ? c : '_');
    }
    if (s.length() > n) {
      sb.append("...");
    }
  }

  private static boolean isClean(char c) {
    return c > ' ' && c != 0x7f && c != '"';
  }
}
