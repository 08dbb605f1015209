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
  public String tier;
  public String rule;
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
    sb.append("rid=").append(requestId)
        .append(" remote=").append(remote)
        .append(" method=").append(method)
        .append(" path=").append(safe(path))
        .append(" status=").append(status)
        .append(" outcome=").append(outcome);
    if (model != null) {
      sb.append(" model=").append(safe(model));
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
    sb.append(" bytes_out=").append(bytesOut);
    if (firstByteNanos != 0) {
      sb.append(" ttfb_ms=").append(Math.round(ttfbMillis() * 10) / 10.0);
    }
    sb.append(" duration_ms=").append(Math.round(elapsedMillis() * 10) / 10.0);
    return sb.toString();
  }

  /** Client-supplied strings are truncated and stripped of spaces and control characters. */
  static String safe(String s) {
    if (s == null) {
      return "-";
    }
    int n = Math.min(s.length(), 128);
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      sb.append(c <= ' ' || c == 0x7f || c == '"' ? '_' : c);
    }
    return s.length() > n ? sb.append("...").toString() : sb.toString();
  }
}
