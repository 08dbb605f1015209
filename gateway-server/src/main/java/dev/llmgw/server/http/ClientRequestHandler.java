package dev.llmgw.server.http;

import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;
import dev.llmgw.core.access.AccessControl;
import dev.llmgw.core.access.Authenticator;
import dev.llmgw.core.access.Identity;
import dev.llmgw.core.config.Access;
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
import dev.llmgw.core.log.RequestLog;
import dev.llmgw.core.route.Caller;
import dev.llmgw.core.route.ModelRouter;
import dev.llmgw.core.route.RoutePlan;
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
import io.netty.handler.timeout.IdleStateEvent;
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
 * <p>Every request gets exactly one response and one access-log line.
 */
public final class ClientRequestHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(ClientRequestHandler.class);
  /** Pipelined requests waiting behind the one in flight; with {@link #queuedBytes} bounded by one body cap. */
  private static final int MAX_PIPELINED = 4;

  private final Supplier<GatewaySnapshot> snapshots;
  private final ExchangeServices services;
  private final LocalEndpoints local;
  private final AtomicInteger inFlightCount;
  private final ArrayDeque<FullHttpRequest> queued = new ArrayDeque<>();
  private long queuedBytes;
  private ChannelHandlerContext ctx;
  private final AdminEndpoints admin;
  private ProxyExchange inFlight;
  /** This connection's timer for backend deadlines, made with its first exchange (see Watchdog). */
  private Watchdog watchdog;
  private boolean awaitingAdmin;
  /** A request waits for the classifier ({@link #classify}) or a shared store's admission ({@link #proxy}). */
  private boolean awaitingDecision;
  private AccessControl.Ticket inFlightTicket;
  /** The request being handled came as HTTP/1.0 (one at a time per connection, so one field will do). */
  private boolean http10;
  /** The first request beyond the pipelining bound: refused once everything before it is answered. */
  private Overflow overflow;

  private record Overflow(String requestId, RequestLog log) {}

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
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof FullHttpRequest req)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (inFlight != null || awaitingAdmin || awaitingDecision) {
      int cap = snapshots.get().config().limits().maxRequestBytes();
      if (overflow != null || queued.size() >= MAX_PIPELINED
          || queuedBytes + req.content().readableBytes() > cap) {
        // a client piling up unanswered requests: what was accepted is answered in order, this one is
        // refused after them (429, then the connection closes); nothing more is read or buffered
        if (overflow == null) {
          String rid = RequestIds.fromClient(req.headers());
          overflow = new Overflow(rid, AccessLog.start(ctx, rid, req));
          ctx.channel().config().setAutoRead(false);
        }
        req.release();
        return;
      }
      queuedBytes += req.content().readableBytes();
      queued.add(req);
      return;
    }
    handle(req);
  }

  /** Takes ownership of {@code req}. */
  private void handle(FullHttpRequest req) {
    http10 = req.protocolVersion().equals(io.netty.handler.codec.http.HttpVersion.HTTP_1_0);
    String requestId = RequestIds.fromClient(req.headers());
    RequestLog log = AccessLog.start(ctx, requestId, req);
    boolean keepAlive = HttpUtil.isKeepAlive(req);
    try {
      if (req.decoderResult().isFailure()) {
        respond(decodeError(req.decoderResult().cause()), requestId, false, log);
        return;
      }
      GatewaySnapshot snapshot = snapshots.get();
      String path = log.path;
      Access access = snapshot.config().access();
      Authenticator auth = new Authenticator(access);
      String credential = Authenticator.credential(req.headers().get(HttpHeaderNames.AUTHORIZATION),
          req.headers().get("api-key"));
      Endpoint endpoint = Endpoint.ofClientPath(path);
      if (endpoint != null) {
        if (!HttpMethod.POST.equals(req.method())) {
          respond(GatewayError.methodNotAllowed(log.method, path, "POST"), requestId, keepAlive, log);
          return;
        }
        Identity identity = auth.forApi(credential);
        log.keyName = identity.keyName();
        log.team = identity.team();
        ParsedRequest parsed = RequestParser.parse(endpoint, new ByteBufInputStream(req.content().duplicate()));
        log.model = parsed.model();
        log.stream = parsed.stream();
        log.endpoint = endpoint.metricName();
        log.baselinePrice = snapshot.baselinePrice();
        Workflows.tag(log, req.headers(), parsed, snapshot.config().economics());
        Caller caller = services.access().caller(identity, access);
        ModelRouter router = snapshot.router();
        RequestFeatures features = router.features(parsed, req.headers()::get, caller);
        if (features == null) {
          proxy(snapshot, parsed, router.plan(parsed.model()), identity, req.content().retain(), requestId,
              keepAlive, log);
          return;
        }
        RouteDecision decision;
        try {
          decision = router.policy().decide(features);
        } catch (SignalNeeded needed) {
          classify(snapshot, parsed, features, needed, caller, identity, req.content().retain(), requestId,
              keepAlive, log);
          return;
        }
        proxy(snapshot, parsed, router.plan(parsed, caller, decision), identity, req.content().retain(),
            requestId, keepAlive, log);
        return;
      }
      if (admin != null && AdminEndpoints.owns(path)) {
        auth.forAdmin(credential);
        awaitingAdmin = true;
        admin.handle(req, path, snapshot).whenComplete((json, failure) ->
            ctx.executor().execute(() -> onAdminDone(json, failure, requestId, keepAlive, log)));
        return;
      }
      Identity caller = Identity.ANONYMOUS;
      if (path.equals("/metrics") && access.protectMetrics()) {
        auth.forAdmin(credential);
      } else if (path.startsWith("/v1/")) {
        caller = auth.forApi(credential);
        log.keyName = caller.keyName();
        log.team = caller.team();
      }
      if (admin != null && EconomicsEndpoints.owns(path)) {
        // the ledger may live in a shared store: read and written off the event loop
        awaitingAdmin = true;
        admin.workflows(req, path, snapshot, caller).whenComplete((json, failure) ->
            ctx.executor().execute(() -> onAdminDone(json, failure, requestId, keepAlive, log)));
        return;
      }
      if (!local.handle(ctx, req, snapshot, requestId, keepAlive, log, caller)) {
        respond(GatewayError.unknownPath(log.method, path), requestId, keepAlive, log);
        return;
      }
      completed(log);
    } catch (RuntimeException e) {
      fail(e, requestId, keepAlive, log);
    } finally {
      req.release();
    }
  }

  /** Answers a request that failed before its exchange started: the error, one log line, the metrics. */
  private void fail(RuntimeException failure, String requestId, boolean keepAlive, RequestLog log) {
    if (failure instanceof AccessControl.LimitedException e) {
      FullHttpResponse r = ClientResponses.response(HttpResponseStatus.valueOf(e.error().status()),
          Unpooled.wrappedBuffer(e.error().toJsonBytes()), requestId, keepAlive);
      HttpHeaders rate = RateLimitHeaders.of(e.rate());
      if (rate != null) {
        r.headers().add(rate);
      }
      if (e.rate() != null) {
        r.headers().set(HttpHeaderNames.RETRY_AFTER, ClientResponses.retryAfterSeconds(e.rate().retryAfterMillis()));
      }
      log.errorCode = e.error().code();
      log.outcome = "error";
      ClientResponses.write(ctx, r, keepAlive, log);
      completed(log);
    } else if (failure instanceof GatewayException e) {
      respond(e.error(), requestId, keepAlive, log);
    } else {
      LOG.error("rid={} unexpected failure handling {} {}", requestId, log.method, log.path, failure);
      respond(GatewayError.internal("unexpected failure"), requestId, keepAlive, log);
    }
  }

  /**
   * Starts the exchange of a routed request. Takes ownership of {@code body}.
   *
   * @throws RuntimeException a refusal by access control (the body is released first)
   */
  private void proxy(GatewaySnapshot snapshot, ParsedRequest parsed, RoutePlan plan, Identity identity,
      ByteBuf body, String requestId, boolean keepAlive, RequestLog log) {
    java.util.concurrent.CompletableFuture<AccessControl.Ticket> admission;
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
      start(snapshot, parsed, plan, ticket, body, requestId, keepAlive, log);
      return;
    }
    // a shared store answers later: this connection waits (its pipelined requests queue behind)
    awaitingDecision = true;
    inFlightCount.incrementAndGet();
    admission.whenComplete((ticket, failure) -> resumeOnLoop(body, () -> {
      awaitingDecision = false;
      inFlightCount.decrementAndGet();
      if (!ctx.channel().isActive()) {
        body.release();
        if (ticket != null) {
          ticket.settle(0, 0.0); // never sent: release the reservation
        }
        log.outcome = "client_closed";
        log.status = 499;
        completed(log);
        return;
      }
      if (failure != null) {
        body.release();
        fail(unwrap(failure), requestId, keepAlive, log);
      } else {
        try {
          start(snapshot, parsed, plan, ticket, body, requestId, keepAlive, log); // owns body from here
        } catch (RuntimeException e) {
          ticket.settle(0, 0.0);
          fail(e, requestId, keepAlive, log);
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

  /** Starts the exchange of an admitted request. Takes ownership of {@code body}. */
  private void start(GatewaySnapshot snapshot, ParsedRequest parsed, RoutePlan plan, AccessControl.Ticket ticket,
      ByteBuf body, String requestId, boolean keepAlive, RequestLog log) {
    ProxyExchange exchange = new ProxyExchange(ctx, services, plan, parsed, body, requestId,
        keepAlive, snapshot.config().limits(), snapshot.config().failover(), log, watchdog(ctx),
        this::onExchangeDone)
        .withResponseHeaders(RateLimitHeaders.of(ticket.rate()))
        .forHttp10(http10);
    inFlight = exchange;
    inFlightTicket = ticket;
    inFlightCount.incrementAndGet();
    exchange.start();
  }

  /**
   * The rules need a costly signal: the classifier computes it off the event loop while this
   * connection waits (its pipelined requests queue behind); the request then continues here, on
   * this channel's loop. Takes ownership of {@code body}.
   */
  private void classify(GatewaySnapshot snapshot, ParsedRequest parsed, RequestFeatures features,
      SignalNeeded needed, Caller caller, Identity identity, ByteBuf body, String requestId, boolean keepAlive,
      RequestLog log) {
    awaitingDecision = true;
    inFlightCount.incrementAndGet(); // a graceful stop waits for it like for a proxied request
    ModelRouter router = snapshot.router();
    services.classifier().decide(router.policy(), features, needed, router.safeTier(caller), snapshot.config())
        .whenComplete((decision, failure) -> resumeOnLoop(body, () -> {
          awaitingDecision = false;
          inFlightCount.decrementAndGet();
          if (!ctx.channel().isActive()) {
            body.release();
            log.outcome = "client_closed";
            log.status = 499;
            completed(log);
            return;
          }
          RoutePlan plan;
          try {
            if (failure != null) {
              throw new IllegalStateException("classifier failed", failure);
            }
            plan = router.plan(parsed, caller, decision);
          } catch (RuntimeException e) {
            body.release();
            fail(e, requestId, keepAlive, log);
            drainQueue();
            return;
          }
          try {
            proxy(snapshot, parsed, plan, identity, body, requestId, keepAlive, log); // owns body from here
          } catch (RuntimeException e) {
            fail(e, requestId, keepAlive, log);
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

  private void respond(GatewayError error, String requestId, boolean keepAlive, RequestLog log) {
    ClientResponses.writeError(ctx, error, requestId, keepAlive, log);
    completed(log);
  }

  /** A request answered here (not proxied): one access-log line, and the metrics. */
  private void completed(RequestLog log) {
    AccessLog.write(ctx, log);
    services.events().completed(log);
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
    RequestLog done = exchange.log();
    if (inFlightTicket != null) {
      inFlightTicket.settle(done.promptTokens < 0 ? 0 : done.promptTokens + Math.max(0, done.completionTokens),
          done.cost);
      inFlightTicket = null;
    }
    AccessLog.write(ctx, done);
    inFlightCount.decrementAndGet();
    if (inFlight == exchange) {
      inFlight = null;
    }
    drainQueue();
  }

  /** An admin answer is ready (on this channel's event loop). */
  private void onAdminDone(byte[] json, Throwable failure, String requestId, boolean keepAlive, RequestLog log) {
    awaitingAdmin = false;
    if (!ctx.channel().isActive()) {
      log.outcome = "client_closed";
      log.status = 499;
      completed(log);
      return;
    }
    Throwable cause = failure == null ? null : unwrap(failure);
    if (cause == null) {
      ClientResponses.writeJson(ctx, io.netty.handler.codec.http.HttpResponseStatus.OK, json, requestId, keepAlive,
          log);
      completed(log);
    } else if (cause instanceof GatewayException e) {
      respond(e.error(), requestId, keepAlive, log);
    } else {
      LOG.error("rid={} admin endpoint {} failed", requestId, log.path, cause);
      respond(GatewayError.internal("admin endpoint failed"), requestId, keepAlive, log);
    }
    drainQueue();
  }

  private void drainQueue() {
    if (ctx.channel().isActive()) {
      FullHttpRequest next;
      while (inFlight == null && !awaitingAdmin && !awaitingDecision && (next = queued.poll()) != null) {
        queuedBytes -= next.content().readableBytes();
        handle(next);
      }
      if (overflow != null && inFlight == null && !awaitingAdmin && !awaitingDecision && queued.isEmpty()) {
        Overflow o = overflow;
        overflow = null;
        respond(GatewayError.tooManyPipelined(MAX_PIPELINED), o.requestId(), false, o.log()); // then closes
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

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    ProxyExchange exchange = inFlight;
    if (exchange != null) {
      exchange.cancel();
    }
    if (watchdog != null) {
      watchdog.close();
    }
    FullHttpRequest r;
    while ((r = queued.poll()) != null) {
      r.release();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent && inFlight == null) {
      ctx.close(); // idle keep-alive connection; an exchange in flight has its own timeouts
      return;
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("client connection {} failed", ctx.channel().remoteAddress(), cause);
    ctx.close();
  }
}
