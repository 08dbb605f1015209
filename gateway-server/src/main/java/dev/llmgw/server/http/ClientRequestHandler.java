package dev.llmgw.server.http;

import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;
import dev.llmgw.core.access.AccessControl;
import dev.llmgw.core.access.Authenticator;
import dev.llmgw.core.access.Identity;
import dev.llmgw.core.config.Access;
import dev.llmgw.core.cache.CacheDirective;
import dev.llmgw.core.cache.ResponseCache;
import dev.llmgw.core.exchange.CacheStep;
import dev.llmgw.core.exchange.ClientResponses;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import dev.llmgw.core.exchange.ProxyExchange;
import dev.llmgw.core.exchange.Watchdog;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.exchange.RequestContext;
import dev.llmgw.core.log.Outcome;
import dev.llmgw.core.log.RequestLogBuilder;
import dev.llmgw.core.route.Caller;
import dev.llmgw.core.route.ModelRouter;
import dev.llmgw.core.route.RoutePlan;
import dev.llmgw.core.trace.TraceStage;
import dev.llmgw.routing.RequestFeatures;
import dev.llmgw.routing.RouteDecision;
import dev.llmgw.routing.SignalNeeded;
import io.netty.buffer.ByteBuf;
import dev.llmgw.core.exchange.ExchangeServices;
import io.netty.buffer.ByteBufInputStream;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of one connection: takes each aggregated request, answers local endpoints,
 * validates and routes proxied ones and runs a {@link ProxyExchange} for them. One request is in
 * flight at a time; pipelined requests wait in a small queue so that responses keep their order.
 *
 * <p>Every request gets exactly one response, and its {@link RequestContext}'s log ends exactly once:
 * here for answers given here (local and admin endpoints, refusals, invalid requests, a client gone
 * while waiting), in the exchange for proxied requests. What follows the end (access log, metrics,
 * ledger, budget settlement) listens to it; nothing of it is called from here.
 */
public final class ClientRequestHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(ClientRequestHandler.class);
  /** Pipelined requests waiting behind the one in flight; with {@link #queuedBytes} bounded by one body cap. */
  private static final int MAX_PIPELINED = 4;

  private final Supplier<GatewaySnapshot> snapshots;
  private final ExchangeServices services;
  private final LocalEndpoints local;
  private final AtomicInteger inFlightCount;
  private final ArrayDeque<Pending> queued = new ArrayDeque<>();
  private long queuedBytes;
  private ChannelHandlerContext ctx;
  private final AdminEndpoints admin;
  private ProxyExchange inFlight;
  /** This connection's timer for backend deadlines, made with its first exchange (see Watchdog). */
  private Watchdog watchdog;
  /** Closes the connection when it has had no request for the idle timeout. */
  private KeepAliveTimeout keepAlive;
  /** A request waits for an admin answer, the classifier ({@link #classify}) or a store's admission ({@link #proxy}). */
  private RequestContext awaiting;
  /** The first request beyond the pipelining bound: refused once everything before it is answered. */
  private RequestContext overflow;

  private record Pending(FullHttpRequest request, RequestContext context) {}

  /**
   * @param admin         operator endpoints, or null when not served
   * @param inFlightCount proxied requests in flight, process-wide (graceful stop waits for zero)
   */
  public ClientRequestHandler(Supplier<GatewaySnapshot> snapshots, ExchangeServices services, LocalEndpoints local,
      AdminEndpoints admin, AtomicInteger inFlightCount) {
    this.snapshots = snapshots;
    this.services = services;
    this.local = local;
    this.admin = admin;
    this.inFlightCount = inFlightCount;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.keepAlive = new KeepAliveTimeout(ctx,
        snapshots.get().config().limits().clientIdleTimeout().toNanos(), this::busyOrReceiving);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof FullHttpRequest req)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    RequestContext request = RequestContext.takeReceiving(ctx.channel());
    if (ClientResponses.closing(ctx.channel())) {
      // behind a response that closes the connection (Connection: close, HTTP/1.0, a refused request):
      // never served, whatever the transport still delivers before the close completes
      req.release();
      if (request != null) {
        request.log().end(Outcome.CLIENT_GONE);
      }
      return;
    }
    if (request == null) { // a pipeline without RequestHeads (tests)
      request = RequestHeads.open(ctx, req, services.sinks(), services.tracing());
    }
    request.log().received(System.nanoTime());
    keepAlive.active();
    if (busy()) {
      int cap = snapshots.get().config().limits().maxRequestBytes();
      if (overflow != null || queued.size() >= MAX_PIPELINED
          || queuedBytes + req.content().readableBytes() > cap) {
        // a client piling up unanswered requests: what was accepted is answered in order, this one is
        // refused after them (429, then the connection closes); nothing more is read or buffered
        req.release();
        if (overflow == null) {
          overflow = request;
          ctx.channel().config().setAutoRead(false);
        } else {
          request.log().end(Outcome.CLIENT_GONE); // not read any further: never answered
        }
        return;
      }
      queuedBytes += req.content().readableBytes();
      queued.add(new Pending(req, request));
      return;
    }
    handle(req, request);
  }

  private boolean busy() {
    return inFlight != null || awaiting != null;
  }

  /** Not idle: a request in flight, queued, or arriving (its head is in). */
  private boolean busyOrReceiving() {
    return busy() || !queued.isEmpty() || ctx.channel().hasAttr(RequestContext.RECEIVING)
        && ctx.channel().attr(RequestContext.RECEIVING).get() != null;
  }

  /** Takes ownership of {@code req}. */
  private void handle(FullHttpRequest req, RequestContext request) {
    RequestLogBuilder log = request.log();
    try {
      if (req.decoderResult().isFailure()) {
        request.closeAfterResponse();
        respond(decodeError(req.decoderResult().cause()), request);
        return;
      }
      GatewaySnapshot snapshot = snapshots.get();
      String path = log.log().path();
      Access access = snapshot.config().access();
      Authenticator auth = new Authenticator(access);
      String credential = Authenticator.credential(req.headers().get(HttpHeaderNames.AUTHORIZATION),
          req.headers().get("api-key"));
      Endpoint endpoint = Endpoint.ofClientPath(path);
      if (endpoint != null) {
        if (!HttpMethod.POST.equals(req.method())) {
          respond(GatewayError.methodNotAllowed(log.log().method(), path, "POST"), request);
          return;
        }
        Identity identity = auth.forApi(credential);
        log.caller(identity.keyName(), identity.team());
        ParsedRequest parsed = RequestParser.parse(endpoint, new ByteBufInputStream(req.content().duplicate()));
        log.request(endpoint.metricName(), parsed.model(), parsed.stream()).baselinePrice(snapshot.baselinePrice());
        request.cacheDirective(CacheDirective.of(req.headers().get(CacheDirective.HEADER), parsed.cacheDirective()));
        Workflows.tag(log, req.headers(), parsed, snapshot.config().economics());
        if (request.trace().recording()) { // a model name a client made up is not put on the span
          request.trace().requested(endpoint.metricName(), ModelRouter.AUTO.equals(parsed.model())
              || snapshot.config().models().containsKey(parsed.model()) ? parsed.model() : null);
        }
        Caller caller = services.access().caller(identity, access);
        ModelRouter router = snapshot.router();
        // without a routing policy there is nothing to classify, and no span for it
        TraceStage classifying = router.policy() == null ? TraceStage.NONE : request.trace().classify();
        RequestFeatures features = router.features(parsed, req.headers()::get, caller);
        if (features == null) {
          proxy(snapshot, parsed, classifying.routed(router.plan(parsed.model())), identity, req.content().retain(),
              request);
          return;
        }
        RouteDecision decision;
        try {
          decision = router.policy().decide(features);
        } catch (SignalNeeded needed) {
          classifying.waiting();
          classify(snapshot, parsed, features, needed, caller, identity, req.content().retain(), request, classifying);
          return;
        }
        proxy(snapshot, parsed, classifying.routed(router.plan(parsed, caller, decision)), identity,
            req.content().retain(), request);
        return;
      }
      if (admin != null && AdminEndpoints.owns(path)) {
        auth.forAdmin(credential);
        awaiting = request;
        admin.handle(req, path, snapshot).whenComplete((json, failure) ->
            ctx.executor().execute(() -> onAdminDone(json, failure, request)));
        return;
      }
      Identity caller = Identity.ANONYMOUS;
      if (path.equals("/metrics") && access.protectMetrics()) {
        auth.forAdmin(credential);
      } else if (path.startsWith("/v1/")) {
        caller = auth.forApi(credential);
        log.caller(caller.keyName(), caller.team());
      }
      if (admin != null && EconomicsEndpoints.owns(path)) {
        // the ledger may live in a shared store: read and written off the event loop
        awaiting = request;
        admin.workflows(req, path, snapshot, caller).whenComplete((json, failure) ->
            ctx.executor().execute(() -> onAdminDone(json, failure, request)));
        return;
      }
      if (local.isMetrics(path)) {
        // a scrape is milliseconds of CPU, more with many series: its own thread, answered here after
        awaiting = request;
        local.scrape(req.method(), path, req.headers().get(HttpHeaderNames.ACCEPT)).whenComplete((scrape, failure) ->
            ctx.executor().execute(() -> onScraped(scrape, failure, request)));
        return;
      }
      if (!local.handle(ctx, req, snapshot, request, caller)) {
        respond(GatewayError.unknownPath(log.log().method(), path), request);
        return;
      }
      log.end(Outcome.SERVED);
    } catch (RuntimeException e) {
      fail(e, request);
    } finally {
      req.release();
    }
  }

  /** Answers a request that failed before its exchange started, and ends its log. */
  private void fail(RuntimeException failure, RequestContext request) {
    if (failure instanceof AccessControl.LimitedException e) {
      FullHttpResponse r = ClientResponses.response(HttpResponseStatus.valueOf(e.error().status()),
          Unpooled.wrappedBuffer(e.error().toJsonBytes()), request.requestId(), request.keepAlive());
      HttpHeaders rate = RateLimitHeaders.of(e.rate());
      if (rate != null) {
        r.headers().add(rate);
      }
      if (e.rate() != null) {
        r.headers().set(HttpHeaderNames.RETRY_AFTER, ClientResponses.retryAfterSeconds(e.rate().retryAfterMillis()));
      }
      request.log().error(e.error().code());
      ClientResponses.write(ctx, r, request.keepAlive(), request.log());
      request.log().end(Outcome.REFUSED);
    } else if (failure instanceof GatewayException e) {
      respond(e.error(), request);
    } else {
      LOG.error("rid={} unexpected failure handling {} {}", request.requestId(), request.log().log().method(),
          request.log().log().path(), failure);
      respond(GatewayError.internal("unexpected failure"), request);
    }
  }

  /**
   * Starts the exchange of a routed request. Takes ownership of {@code body}.
   *
   * @throws RuntimeException a refusal by access control (the body is released first)
   */
  private void proxy(GatewaySnapshot snapshot, ParsedRequest parsed, RoutePlan plan, Identity identity,
      ByteBuf body, RequestContext request) {
    java.util.concurrent.CompletableFuture<AccessControl.Ticket> admission;
    TraceStage admitting = request.trace().admit(); // a refusal ends it with the request
    try {
      admission = services.access().admit(identity, snapshot.config().access(), parsed, plan);
    } catch (RuntimeException e) {
      body.release();
      throw e;
    }
    if (admission.isDone()) { // in-process stores: decided already, go on without a hop
      AccessControl.Ticket ticket;
      try {
        ticket = admission.join();
      } catch (java.util.concurrent.CompletionException e) {
        body.release();
        throw unwrap(e);
      }
      admitting.end();
      start(snapshot, parsed, plan, ticket, body, request);
      return;
    }
    // a shared store answers later: this connection waits (its pipelined requests queue behind)
    awaiting = request;
    inFlightCount.incrementAndGet();
    admission.whenComplete((ticket, failure) -> resumeOnLoop(body, () -> {
      awaiting = null;
      inFlightCount.decrementAndGet();
      if (!ctx.channel().isActive()) {
        body.release();
        if (ticket != null) {
          ticket.settle(0, 0.0); // never sent: release the reservation
        }
        request.log().end(Outcome.CLIENT_GONE);
        return;
      }
      if (failure != null) {
        body.release();
        fail(unwrap(failure), request);
      } else {
        try {
          admitting.end();
          start(snapshot, parsed, plan, ticket, body, request); // owns body from here
        } catch (RuntimeException e) {
          fail(e, request); // ending the log settles the ticket (start registered that first)
        }
      }
      drainQueue();
    }));
  }

  private static RuntimeException unwrap(Throwable failure) {
    Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    return cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
  }

  /**
   * Answers an admitted request from the cache, waits for an identical one in flight, or starts its
   * exchange. Takes ownership of {@code body}.
   */
  private void start(GatewaySnapshot snapshot, ParsedRequest parsed, RoutePlan plan, AccessControl.Ticket ticket,
      ByteBuf body, RequestContext request) {
    // the reservation is settled with what the request consumed, whichever way it ends (a hit: no tokens)
    request.log().whenEnded(log -> ticket.settle(log.totalTokens(), log.cost()));
    HttpHeaders rate = RateLimitHeaders.of(ticket.rate());
    CacheStep cache = CacheStep.prepare(services.cache(), snapshot.config(), parsed, plan, request);
    if (cache == null) {
      exchange(snapshot, parsed, plan, body, request, rate);
      return;
    }
    ResponseCache.Lookup found = cache.lookup();
    if (found instanceof ResponseCache.Hit hit) {
      body.release();
      cache.serve(ctx, hit.response(), rate);
      return;
    }
    java.util.concurrent.CompletableFuture<dev.llmgw.core.cache.CachedResponse> pending =
        found instanceof ResponseCache.Wait w ? w.answer() : found instanceof ResponseCache.Check c ? c.answer() : null;
    if (pending != null) {
      // an identical request is being answered, or the replicas' shared answers are asked: this connection
      // waits for the answer (queued ones behind)
      awaiting = request;
      inFlightCount.incrementAndGet();
      pending.whenComplete((entry, failure) -> resumeOnLoop(body, () -> {
        awaiting = null;
        inFlightCount.decrementAndGet();
        if (!ctx.channel().isActive()) {
          body.release();
          if (entry == null) {
            cache.abandon();
          }
          request.log().end(Outcome.CLIENT_GONE);
        } else if (entry != null) {
          body.release();
          cache.serve(ctx, entry, rate);
        } else { // nothing stored (failed, cut, too large; nothing shared): this one asks a backend itself
          cache.beforeExchange();
          exchange(snapshot, parsed, plan, body, request, cache.headers(rate));
        }
        drainQueue();
      }));
      return;
    }
    cache.beforeExchange();
    exchange(snapshot, parsed, plan, body, request, cache.headers(rate));
  }

  /** Starts the exchange of an admitted request. Takes ownership of {@code body}. */
  private void exchange(GatewaySnapshot snapshot, ParsedRequest parsed, RoutePlan plan, ByteBuf body,
      RequestContext request, HttpHeaders headers) {
    ProxyExchange exchange = new ProxyExchange(ctx, services, plan, parsed, body, request,
        snapshot.config().limits(), snapshot.config().failover(), watchdog(ctx), this::onExchangeDone)
        .withResponseHeaders(headers);
    inFlight = exchange;
    inFlightCount.incrementAndGet();
    exchange.start();
  }

  /**
   * The rules need a costly signal: the classifier computes it off the event loop while this
   * connection waits (its pipelined requests queue behind); the request then continues here, on
   * this channel's loop. Takes ownership of {@code body}.
   */
  private void classify(GatewaySnapshot snapshot, ParsedRequest parsed, RequestFeatures features,
      SignalNeeded needed, Caller caller, Identity identity, ByteBuf body, RequestContext request,
      TraceStage classifying) {
    awaiting = request;
    inFlightCount.incrementAndGet(); // a graceful stop waits for it like for a proxied request
    ModelRouter router = snapshot.router();
    services.classifier().decide(router.policy(), features, needed, router.safeTier(caller), snapshot.config())
        .whenComplete((decision, failure) -> resumeOnLoop(body, () -> {
          awaiting = null;
          inFlightCount.decrementAndGet();
          if (!ctx.channel().isActive()) {
            body.release();
            request.log().end(Outcome.CLIENT_GONE);
            return;
          }
          RoutePlan plan;
          try {
            if (failure != null) {
              throw new IllegalStateException("classifier failed", failure);
            }
            plan = classifying.routed(router.plan(parsed, caller, decision));
          } catch (RuntimeException e) {
            body.release();
            fail(e, request);
            drainQueue();
            return;
          }
          try {
            proxy(snapshot, parsed, plan, identity, body, request); // owns body from here
          } catch (RuntimeException e) {
            fail(e, request);
          }
          drainQueue();
        }));
  }

  /** Runs {@code resume} on this channel's loop; when the loop refuses it (shutting down), releases {@code body}. */
  private void resumeOnLoop(ByteBuf body, Runnable resume) {
    try {
      ctx.executor().execute(resume);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      body.release();
      inFlightCount.decrementAndGet();
    }
  }

  /** Answers {@code error} and ends the request's log. */
  private void respond(GatewayError error, RequestContext request) {
    ClientResponses.writeError(ctx, error, request.requestId(), request.keepAlive(), request.log());
    request.log().end(ClientResponses.outcomeOf(error));
  }

  private static GatewayError decodeError(Throwable cause) {
    if (cause instanceof TooLongHttpHeaderException) {
      return GatewayError.headersTooLarge();
    }
    if (cause instanceof TooLongHttpLineException) {
      return GatewayError.uriTooLong();
    }
    if (cause instanceof TooLongFrameException) {
      return GatewayError.headersTooLarge();
    }
    return GatewayError.badHttp("Malformed HTTP request: " + cause.getMessage());
  }

  private void onExchangeDone(ProxyExchange exchange) {
    inFlightCount.decrementAndGet();
    if (inFlight == exchange) {
      inFlight = null;
    }
    drainQueue();
  }

  /** An admin answer is ready (on this channel's event loop). */
  private void onAdminDone(byte[] json, Throwable failure, RequestContext request) {
    onAnswered(failure, request, () -> ClientResponses.writeJson(ctx, HttpResponseStatus.OK, json,
        request.requestId(), request.keepAlive(), request.log()));
  }

  private void onScraped(LocalEndpoints.Scrape scrape, Throwable failure, RequestContext request) {
    onAnswered(failure, request, () -> {
      FullHttpResponse r = ClientResponses.response(HttpResponseStatus.OK, Unpooled.wrappedBuffer(scrape.body()),
          request.requestId(), request.keepAlive());
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, scrape.contentType());
      ClientResponses.write(ctx, r, request.keepAlive(), request.log());
    });
  }

  /** On the event loop: the answer computed elsewhere ({@code writeOk} writes it), or its failure. */
  private void onAnswered(Throwable failure, RequestContext request, Runnable writeOk) {
    awaiting = null;
    if (!ctx.channel().isActive()) {
      request.log().end(Outcome.CLIENT_GONE);
      return;
    }
    Throwable cause = failure == null ? null : unwrap(failure);
    if (cause == null) {
      writeOk.run();
      request.log().end(Outcome.SERVED);
    } else if (cause instanceof GatewayException e) {
      respond(e.error(), request);
    } else {
      LOG.error("rid={} endpoint {} failed", request.requestId(), request.log().log().path(), cause);
      respond(GatewayError.internal("endpoint failed"), request);
    }
    drainQueue();
  }

  private void drainQueue() {
    keepAlive.active(); // an answer ended (or a request was refused): idle from here
    if (!ClientResponses.closing(ctx.channel())) {
      Pending next;
      while (!busy() && (next = queued.poll()) != null) {
        queuedBytes -= next.request().content().readableBytes();
        handle(next.request(), next.context());
      }
      if (overflow != null && !busy() && queued.isEmpty()) {
        RequestContext o = overflow;
        overflow = null;
        o.closeAfterResponse();
        respond(GatewayError.tooManyPipelined(MAX_PIPELINED), o); // then closes
      }
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (inFlight != null && ctx.channel().isWritable()) {
      inFlight.onClientWritable();
    }
    ctx.fireChannelWritabilityChanged();
  }

  private Watchdog watchdog(ChannelHandlerContext ctx) {
    Watchdog w = watchdog;
    if (w == null) {
      w = watchdog = new Watchdog(ctx.executor());
    }
    return w;
  }

  /**
   * The client left: the exchange in flight is cancelled (and ends its request), and every request
   * not answered yet — queued, refused for overflow, or still arriving — ends as client gone. One
   * waiting for an admin answer, the classifier or admission ends when that answer comes.
   */
  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    ProxyExchange exchange = inFlight;
    if (exchange != null) {
      exchange.cancel();
    }
    if (watchdog != null) {
      watchdog.close();
    }
    keepAlive.close();
    Pending p;
    while ((p = queued.poll()) != null) {
      p.request().release();
      p.context().log().end(Outcome.CLIENT_GONE);
    }
    RequestContext.endIfOpen(overflow, Outcome.CLIENT_GONE);
    overflow = null;
    RequestContext.endIfOpen(RequestContext.takeReceiving(ctx.channel()), Outcome.CLIENT_GONE);
    ctx.fireChannelInactive();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("client connection {} failed", ctx.channel().remoteAddress(), cause);
    ctx.close();
  }
}
