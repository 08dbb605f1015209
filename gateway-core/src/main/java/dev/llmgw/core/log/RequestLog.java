package dev.llmgw.core.log;

import dev.llmgw.core.config.Price;

/**
 * What one client request did: the read side of the record a {@link RequestLogBuilder} fills in
 * along the request path, stage by stage, and ends once. Listeners ({@link RequestLogListener}) read
 * it when it has ended. Never holds header values (so no credential can reach the log); client-supplied
 * strings (model, workflow id) are bounded and never used as metric labels.
 */
public final class RequestLog {
  // the head: set when the request line arrives
  final long startNanos;
  long receivedNanos;
  final String requestId;
  final String method;
  final String path;
  final String remote;
  // the caller and the request, as parsed
  String keyName;
  String team;
  String endpoint;
  String model;
  boolean stream;
  String workflowId;
  String workflowType;
  Price baselinePrice;
  // the route
  String tier;
  String rule;
  String signal;
  // the attempts
  String backend;
  String alias;
  Price price;
  long firstAttemptNanos;
  int attempts;
  int retries;
  int fallbacks;
  double failedAttemptCost;
  // the response
  int status;
  long firstByteNanos;
  long bytesOut;
  String errorCode;
  long promptTokens = -1;
  long completionTokens = -1;
  long cachedPromptTokens;
  boolean usageEstimated;
  // the cache: what it did for this request (null: not cached), the money a hit saved
  String cache;
  double cacheSaved = Double.NaN;
  // the end
  Outcome outcome;
  long endNanos;
  double cost = Double.NaN;
  double baselineCost = Double.NaN;
  boolean costSet;

  RequestLog(long startNanos, String requestId, String method, String path, String remote) {
    this.startNanos = startNanos;
    this.receivedNanos = startNanos;
    this.requestId = requestId;
    this.method = method;
    this.path = path;
    this.remote = remote;
  }

  public long startNanos() { return startNanos; }
  /** When the whole request had arrived (the failover deadline and the gateway overhead count from here). */
  public long receivedNanos() { return receivedNanos; }
  public String requestId() { return requestId; }
  public String method() { return method; }
  /** The request path without its query. */
  public String path() { return path; }
  public String remote() { return remote; }
  /** The gateway key's name (never the key), or null. */
  public String keyName() { return keyName; }
  /** The key's team, or null. */
  public String team() { return team; }
  /** The endpoint's metric label (chat_completions, completions, embeddings), or null for local endpoints. */
  public String endpoint() { return endpoint; }
  /** The model as the client named it (client data: never a metric label), or null. */
  public String model() { return model; }
  public boolean stream() { return stream; }
  /** Workflow id as the client sent it (capped; never a metric label), or null. */
  public String workflowId() { return workflowId; }
  /** Configured workflow type, {@code other}, or null when the request names no workflow. */
  public String workflowType() { return workflowType; }
  public String tier() { return tier; }
  public String rule() { return rule; }
  /** What decided the tier: rule, semantic, judge, default, ... */
  public String signal() { return signal; }
  /** The backend that served (or was last tried), or null. */
  public String backend() { return backend; }
  /** The configured alias that served (or was last tried): a bounded label, unlike {@link #model}. */
  public String alias() { return alias; }
  /** Time the first attempt started, 0 if none. */
  public long firstAttemptNanos() { return firstAttemptNanos; }
  public int attempts() { return attempts; }
  public int retries() { return retries; }
  public int fallbacks() { return fallbacks; }
  public int status() { return status; }
  /** Time the first response byte went to the client, 0 if none. */
  public long firstByteNanos() { return firstByteNanos; }
  public long bytesOut() { return bytesOut; }
  /** The error's code (or type) when the request was answered with an error or cut, else null. */
  public String errorCode() { return errorCode; }
  /** Tokens of the response that served (or was cut); -1 when unknown. */
  public long promptTokens() { return promptTokens; }
  public long completionTokens() { return completionTokens; }
  public long cachedPromptTokens() { return cachedPromptTokens; }
  /** True when the token counts (or a failed attempt's cost) were estimated by the gateway. */
  public boolean usageEstimated() { return usageEstimated; }
  /**
   * What the response cache did: {@code hit}, {@code miss}, {@code refresh}, {@code bypass} or
   * {@code uncacheable} (not deterministic); null when the request's model and tier are not cached.
   */
  public String cache() { return cache; }
  public boolean cacheHit() { return "hit".equals(cache); }
  /** For a hit: what the stored answer's usage costs at its model's price (the money not spent), else NaN. */
  public double cacheSaved() { return cacheSaved; }
  /** How the request ended; null until it has. */
  public Outcome outcome() { return outcome; }
  public boolean ended() { return outcome != null; }
  /** US dollars for this request (all attempts that consumed tokens), NaN when unknown or unpriced. */
  public double cost() { return cost; }
  /** What the same tokens would have cost on the savings baseline model, NaN when unknown. */
  public double baselineCost() { return baselineCost; }
  /** Estimated cost of attempts that failed after a provider may have accepted them; part of {@link #cost}. */
  public double failedAttemptCost() { return failedAttemptCost; }

  /** Tokens to settle against limits: prompt plus completion, 0 when unknown. */
  public long totalTokens() {
    return promptTokens < 0 ? 0 : promptTokens + Math.max(0, completionTokens);
  }

  /**
   * Pricing, done once at the end: the serving alias's price over the usage (plus the estimated cost
   * of timed-out attempts), and the savings baseline's price over the same tokens.
   */
  void price() {
    if (costSet) {
      return;
    }
    if (failedAttemptCost > 0) {
      usageEstimated = true;
    }
    if (promptTokens < 0) {
      if (failedAttemptCost > 0) {
        cost = failedAttemptCost; // nothing served, but timed-out attempts may be billed
      }
      return;
    }
    long completion = Math.max(0, completionTokens);
    if (price != null) {
      cost = price.cost(promptTokens, cachedPromptTokens, completion) + failedAttemptCost;
    }
    if (baselinePrice != null) {
      baselineCost = baselinePrice.cost(promptTokens, cachedPromptTokens, completion);
    }
  }

  public double elapsedMillis() {
    return ((endNanos == 0 ? System.nanoTime() : endNanos) - startNanos) / 1_000_000.0;
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
        .append(" outcome=").append(outcome == null ? "-" : outcome.label());
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
    if (cache != null) {
      sb.append(" cache=").append(cache);
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
