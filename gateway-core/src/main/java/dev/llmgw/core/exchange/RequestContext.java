package dev.llmgw.core.exchange;

import dev.llmgw.core.log.Outcome;
import dev.llmgw.core.log.RequestLogBuilder;
import dev.llmgw.core.trace.RequestTrace;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

/**
 * One client request, from its head to its end: its id, how its connection continues after it, and
 * its {@link RequestLogBuilder}. Made when the request line and headers arrive and parked on the
 * channel ({@link #RECEIVING}) while the body arrives, so whoever answers it — the aggregator's 413,
 * the receive timeout's 408, the request handler — answers and ends this very record.
 *
 * <p>Confined to the channel's event loop.
 */
public final class RequestContext {
  /** The request whose head has arrived and whose body is still arriving (one at a time per connection). */
  public static final AttributeKey<RequestContext> RECEIVING = AttributeKey.valueOf("gateway.receiving");

  private final String requestId;
  private final RequestLogBuilder log;
  private boolean keepAlive;
  private final boolean http10;
  private final RequestTrace trace;
  /** Records the response for the cache (a cached model's miss or refresh), else null. */
  private CacheFill cacheFill;
  private dev.llmgw.core.cache.CacheDirective cacheDirective = dev.llmgw.core.cache.CacheDirective.USE;

  public RequestContext(String requestId, RequestLogBuilder log, boolean keepAlive, boolean http10) {
    this(requestId, log, keepAlive, http10, RequestTrace.NONE);
  }

  /** @param trace the request's spans ({@link RequestTrace#NONE} when tracing is off) */
  public RequestContext(String requestId, RequestLogBuilder log, boolean keepAlive, boolean http10,
      RequestTrace trace) {
    this.requestId = requestId;
    this.log = log;
    this.keepAlive = keepAlive;
    this.http10 = http10;
    this.trace = trace;
  }

  /** The request's trace: its span and the factory of its child spans. */
  public RequestTrace trace() {
    return trace;
  }

  public String requestId() {
    return requestId;
  }

  public RequestLogBuilder log() {
    return log;
  }

  /** Whether the connection stays open after this request's response. */
  public boolean keepAlive() {
    return keepAlive;
  }

  /** The response must end the connection (an HTTP/1.0 client, a body of unknown length, a refusal). */
  public void closeAfterResponse() {
    keepAlive = false;
  }

  /** The client spoke HTTP/1.0: no chunked coding in the response (RFC 9112 §6.1). */
  public boolean http10() {
    return http10;
  }

  /** The recorder of this request's response for the cache, or null. */
  public CacheFill cacheFill() {
    return cacheFill;
  }

  void cacheFill(CacheFill fill) {
    this.cacheFill = fill;
  }

  /** What the request asked of the cache (header or metadata; default use). */
  public dev.llmgw.core.cache.CacheDirective cacheDirective() {
    return cacheDirective;
  }

  public void cacheDirective(dev.llmgw.core.cache.CacheDirective directive) {
    this.cacheDirective = directive;
  }

  /** Takes the request still arriving on {@code channel}, or null. */
  public static RequestContext takeReceiving(Channel channel) {
    return channel.attr(RECEIVING).getAndSet(null);
  }

  /** Ends {@code context} as {@code outcome} unless it has ended (a null context is ignored). */
  public static void endIfOpen(RequestContext context, Outcome outcome) {
    if (context != null) {
      context.log.end(outcome);
    }
  }
}
