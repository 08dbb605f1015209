package dev.llmgw.core.exchange;

import dev.llmgw.core.cache.CacheDirective;
import dev.llmgw.core.cache.CacheKey;
import dev.llmgw.core.cache.CachedResponse;
import dev.llmgw.core.cache.ResponseCache;
import dev.llmgw.core.config.CacheSettings;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.http.TrustedHeaders;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.log.Outcome;
import dev.llmgw.core.log.RequestLog;
import dev.llmgw.core.log.RequestLogBuilder;
import dev.llmgw.core.route.Route;
import dev.llmgw.core.route.RoutePlan;
import dev.llmgw.core.upstream.UpstreamRequests;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * The cache's part of one admitted request, between admission and the exchange: decides whether the
 * cache applies (the primary candidate's alias or the tier is cached, the request is deterministic or the
 * config caches every request, the directive), looks the key up, serves a hit, and makes a miss record
 * its answer for the cache ({@link CacheFill}) and store it when the request ends.
 *
 * <p>A hit is one complete response written at once — the stored body, JSON or the whole SSE stream with
 * its Content-Length — with {@code x-gateway-cache: hit}, no attempt, cost 0 and the money it saved in the
 * request's log, which it ends. Confined to the request's event loop.
 */
public final class CacheStep {
  public static final String HIT = "hit";
  public static final String MISS = "miss";

  private final ResponseCache cache;
  private final GatewayConfig config;
  private final RoutePlan plan;
  private final RequestContext context;
  private final String key;
  private String status;
  private boolean leader;

  private CacheStep(ResponseCache cache, GatewayConfig config, RoutePlan plan, RequestContext context, String key,
      String status) {
    this.cache = cache;
    this.config = config;
    this.plan = plan;
    this.context = context;
    this.key = key;
    this.status = status;
  }

  /**
   * The cache's step for a request, or null when its model and tier are not cached. Records what the
   * cache does in the request's log ({@code uncacheable}, {@code bypass}, ...).
   */
  public static CacheStep prepare(ResponseCache cache, GatewayConfig config, ParsedRequest parsed, RoutePlan plan,
      RequestContext context) {
    CacheSettings settings = config.cache();
    cache.ensure(settings);
    Route primary = plan.candidates().get(0);
    if (!settings.covers(primary.alias().alias(), plan.tier())) {
      return null;
    }
    CacheDirective directive = context.cacheDirective();
    String status;
    String key = null;
    if (directive == CacheDirective.BYPASS) {
      status = "bypass";
    } else if (settings.deterministicOnly() && !CacheKey.deterministic(parsed)) {
      status = "uncacheable";
    } else {
      status = directive == CacheDirective.REFRESH ? "refresh" : MISS;
      RequestLog log = context.log().log();
      String scope = !settings.perTeam() ? null
          : log.team() != null ? "team:" + log.team() : log.keyName() != null ? "key:" + log.keyName() : "anonymous";
      key = CacheKey.of(parsed, scope, primary.alias().alias(), primary.backend().name(), primary.backendModel());
    }
    context.log().cache(status);
    return new CacheStep(cache, config, plan, context, key, status);
  }

  /**
   * Looks the request up ({@code use}) and claims the key when nothing is stored or in flight (a
   * {@link ResponseCache.Check} then asks the replicas' shared answers first). For
   * {@code refresh}, {@code bypass} and uncacheable requests: a lead without a claim (nothing is looked up).
   */
  public ResponseCache.Lookup lookup() {
    if (key == null || !MISS.equals(status)) {
      return new ResponseCache.Lead();
    }
    ResponseCache.Lookup found = cache.lookup(key);
    leader = found instanceof ResponseCache.Lead || found instanceof ResponseCache.Check;
    return found;
  }

  /**
   * The request goes to a backend: its answer is recorded and, when it ends served, stored (and handed to
   * the requests that waited for it, when this one had claimed the key).
   */
  public void beforeExchange() {
    if (key == null) {
      return;
    }
    CacheFill fill = new CacheFill(config.cache().maxEntryBytes(), plan.candidates().get(0).alias().alias());
    context.cacheFill(fill);
    boolean claimed = leader;
    context.log().whenEnded(log -> {
      CachedResponse entry = fill.entry(log);
      if (claimed) {
        cache.filled(key, entry);
      } else {
        cache.put(key, entry);
      }
    });
  }

  /**
   * The request ends without going on (its client left while it waited): a key it had claimed is released,
   * so that requests waiting for it go on by themselves.
   */
  public void abandon() {
    if (leader) {
      leader = false;
      cache.filled(key, null);
    }
  }

  /** The headers every answer to this request carries: {@code extra} (rate limits) and x-gateway-cache. */
  public HttpHeaders headers(HttpHeaders extra) {
    HttpHeaders h = new DefaultHttpHeaders();
    if (extra != null) {
      h.add(extra);
    }
    h.set(CacheDirective.HEADER, status);
    return h;
  }

  /** Answers from {@code entry} and ends the request's log (served). */
  public void serve(ChannelHandlerContext ctx, CachedResponse entry, HttpHeaders extra) {
    status = HIT;
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
        Unpooled.wrappedBuffer(entry.body()), TrustedHeaders.HEADERS, TrustedHeaders.TRAILERS);
    HttpHeaders h = r.headers();
    h.set(HttpHeaderNames.CONTENT_TYPE, entry.contentType() != null ? entry.contentType()
        : entry.eventStream() ? "text/event-stream" : "application/json");
    h.setInt(HttpHeaderNames.CONTENT_LENGTH, entry.body().length);
    h.set(UpstreamRequests.X_REQUEST_ID, context.requestId());
    if (!context.keepAlive()) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    GatewayHeaders gateway = new GatewayHeaders(plan, new FailureHistory());
    gateway.extra(headers(extra));
    gateway.addTo(h, 0, entry.backend());
    RequestLogBuilder log = context.log();
    log.route(plan.tier(), plan.rule(), plan.signal()); // routed like any request (no exchange records it)
    log.cacheHit(entry.backend(), entry.alias(), saved(entry));
    log.responseStarted(200, System.nanoTime());
    ClientResponses.write(ctx, r, context.keepAlive(), log);
    log.end(Outcome.SERVED);
  }

  /** What the stored answer's usage costs at its alias's current price; NaN when unknown or unpriced. */
  private double saved(CachedResponse entry) {
    ModelAlias alias = config.models().get(entry.alias());
    if (alias == null || alias.price() == null || entry.promptTokens() < 0) {
      return Double.NaN;
    }
    return alias.price().cost(entry.promptTokens(), entry.cachedPromptTokens(),
        Math.max(0, entry.completionTokens()));
  }
}
