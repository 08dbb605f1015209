package dev.llmgw.core.log;

import dev.llmgw.core.config.Price;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write side of one request's {@link RequestLog}: each stage of the request path sets the fields
 * it knows (the head handler the head, access control the caller, the parser the request, the router
 * the route, the exchange its attempts and the response) and whoever answers the request ends it, with
 * an {@link Outcome}, exactly once. Ending prices the usage and tells the listeners: the process-wide
 * sinks given at creation (metrics, access log, ledger) and the request's own ({@link #whenEnded},
 * e.g. settling a budget reservation). Writes after the end are ignored.
 *
 * <p>Confined to the request's event loop, like the request.
 */
public final class RequestLogBuilder {
  private static final Logger LOG = LoggerFactory.getLogger(RequestLogBuilder.class);

  private final RequestLog log;
  private final RequestLogListener sinks;
  private List<RequestLogListener> own;

  public RequestLogBuilder(String requestId, String method, String path, String remote, RequestLogListener sinks) {
    this(System.nanoTime(), requestId, method, path, remote, sinks);
  }

  public RequestLogBuilder(long startNanos, String requestId, String method, String path, String remote,
      RequestLogListener sinks) {
    this.log = new RequestLog(startNanos, requestId, method, path, remote);
    this.sinks = sinks;
  }

  /** What has been recorded so far (the finished record once {@link #isEnded()}). */
  public RequestLog log() {
    return log;
  }

  public boolean isEnded() {
    return log.outcome != null;
  }

  /** The whole request has arrived. */
  public RequestLogBuilder received(long nanos) {
    log.receivedNanos = nanos;
    return this;
  }

  public RequestLogBuilder caller(String keyName, String team) {
    log.keyName = keyName;
    log.team = team;
    return this;
  }

  /** A proxied request as parsed: its endpoint label, the model it names, whether it streams. */
  public RequestLogBuilder request(String endpoint, String model, boolean stream) {
    log.endpoint = endpoint;
    log.model = model;
    log.stream = stream;
    return this;
  }

  public RequestLogBuilder workflow(String id, String type) {
    log.workflowId = id;
    log.workflowType = type;
    return this;
  }

  /** The savings baseline's price (null: no baseline configured). */
  public RequestLogBuilder baselinePrice(Price price) {
    log.baselinePrice = price;
    return this;
  }

  public RequestLogBuilder route(String tier, String rule, String signal) {
    log.tier = tier;
    log.rule = rule;
    log.signal = signal;
    return this;
  }

  /** An attempt on {@code backend} for {@code alias} (priced at {@code price}, null: unpriced) starts. */
  public RequestLogBuilder attemptStarted(String backend, String alias, Price price, long nanos) {
    log.backend = backend;
    log.alias = alias;
    log.price = price;
    log.attempts++;
    if (log.firstAttemptNanos == 0) {
      log.firstAttemptNanos = nanos;
    }
    return this;
  }

  public RequestLogBuilder retried() {
    log.retries++;
    return this;
  }

  public RequestLogBuilder fellBack() {
    log.fallbacks++;
    return this;
  }

  /** A failed attempt that a provider may bill (a timeout after it accepted the request), in US dollars. */
  public RequestLogBuilder failedAttemptCost(double usd) {
    log.failedAttemptCost += usd;
    return this;
  }

  /** The response head went to the client with {@code status}; its first byte at {@code nanos}. */
  public RequestLogBuilder responseStarted(int status, long nanos) {
    log.status = status;
    log.firstByteNanos = nanos;
    return this;
  }

  /** A complete response with {@code status} and a body of {@code bytes} went to the client. */
  public RequestLogBuilder responded(int status, long bytes) {
    log.status = status;
    log.bytesOut += bytes;
    return this;
  }

  public RequestLogBuilder bytesOut(long bytes) {
    log.bytesOut += bytes;
    return this;
  }

  /** The error answered (or ending a cut stream): its code, else its type. */
  public RequestLogBuilder error(String code) {
    log.errorCode = code;
    return this;
  }

  /** Token usage of the response that served (or was cut); {@code estimated} when the gateway counted. */
  public RequestLogBuilder usage(long prompt, long completion, long cachedPrompt, boolean estimated) {
    log.promptTokens = prompt;
    log.completionTokens = completion;
    log.cachedPromptTokens = cachedPrompt;
    log.usageEstimated = estimated;
    return this;
  }

  /** What the response cache did for this request ({@link RequestLog#cache()}). */
  public RequestLogBuilder cache(String status) {
    log.cache = status;
    return this;
  }

  /**
   * Served from the cache: no attempt, no tokens, cost 0; {@code backend} and {@code alias} are the ones that
   * produced the stored answer (labels), {@code saved} what it would have cost again (NaN: unpriced).
   */
  public RequestLogBuilder cacheHit(String backend, String alias, double saved) {
    log.cache = "hit";
    log.backend = backend;
    log.alias = alias;
    log.cacheSaved = saved;
    return cost(0, Double.NaN);
  }

  /** Sets the cost directly instead of pricing the usage at the end (records built in code: tests, imports). */
  public RequestLogBuilder cost(double cost, double baselineCost) {
    log.cost = cost;
    log.baselineCost = baselineCost;
    log.costSet = true;
    return this;
  }

  /** Also tells {@code listener} when this request ends (at once, if it has). */
  public void whenEnded(RequestLogListener listener) {
    if (isEnded()) {
      notify(listener, log);
      return;
    }
    if (own == null) {
      own = new ArrayList<>(2);
    }
    own.add(listener);
  }

  /**
   * Ends the request: the outcome is fixed, the usage priced, and the listeners told — the request's
   * own first (settlements), then the sinks. Only the first call counts.
   *
   * @return false when the request had already ended
   */
  public boolean end(Outcome outcome) {
    if (log.outcome != null) {
      return false;
    }
    log.outcome = outcome;
    log.endNanos = System.nanoTime();
    if (outcome == Outcome.CLIENT_GONE && log.status == 0) {
      log.status = 499; // nothing was sent: nginx's "client closed request"
    }
    log.price();
    if (own != null) {
      for (RequestLogListener l : own) {
        notify(l, log);
      }
      own = null;
    }
    notify(sinks, log);
    return true;
  }

  static void notify(RequestLogListener listener, RequestLog log) {
    try {
      listener.onEnd(log);
    } catch (RuntimeException e) {
      LOG.error("rid={} a request-log listener failed", log.requestId, e);
    }
  }
}
