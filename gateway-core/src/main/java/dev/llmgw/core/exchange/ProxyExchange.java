package dev.llmgw.core.exchange;

import dev.llmgw.core.config.Failover;
import dev.llmgw.core.config.Limits;
import dev.llmgw.core.config.Price;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.log.Outcome;
import dev.llmgw.core.log.RequestLogBuilder;
import dev.llmgw.core.resilience.BackendGuard;
import dev.llmgw.core.resilience.FailureClass;
import dev.llmgw.core.resilience.FailureClassifier;
import dev.llmgw.core.resilience.FailureClassifier.Failure;
import dev.llmgw.core.resilience.Unavailable;
import dev.llmgw.core.route.Route;
import dev.llmgw.core.route.RoutePlan;
import dev.llmgw.core.usage.TokenEstimator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client request: tries its {@link RoutePlan}'s candidates in order — retrying a backend for
 * retryable failures, falling back to the next one otherwise — until one answers, and relays that
 * answer ({@link ResponseRelay}).
 *
 * <pre>
 *  client ─▶ ProxyExchange ─▶ BackendAttempt(candidate 0) ─✗─▶ retry / BackendAttempt(candidate 1) ─▶ ...
 *  client ◀── ResponseRelay ◀── the attempt that answered (reads paced by the client's writability)
 * </pre>
 *
 * <p><b>Fallback boundary = the first byte sent to the client.</b> Until the relay commits, any
 * failure may retry or fall back (the body is replayed from the exchange's copy). After it, a failure
 * ends the response visibly broken — never a clean end with half an answer.
 *
 * <p><b>Bounds.</b> At most {@link Failover#maxAttempts()} attempts; no attempt starts after the
 * failover deadline (counted from the request's arrival, on the loop's ticker); a backend's
 * {@code Retry-After} is waited out only if it fits both the deadline and {@link Failover#maxRetryAfter()}.
 *
 * <p><b>Last resort.</b> When every candidate failed before the first byte (or the bounds above are
 * spent), a plan with a {@link RoutePlan#lastResort()} ({@code failover.lastResort}) gets one more
 * attempt there — one, without retries, even past the attempt cap and the deadline (its own timeouts
 * bound it) — for completions and chat completions. It counts as a fallback (trail, metrics) and is
 * marked {@code last-resort=<alias>} in {@code x-gateway-fallback}. Failures that never fall back
 * (the caller's own) never reach it; after a context overflow only a larger window is tried.
 *
 * <p><b>Record.</b> The exchange sets the route, attempt, response and usage fields of the request's
 * log and ends it exactly once, when the response has ended or the client has left ({@link #finish}).
 *
 * <p><b>Threading and ownership.</b> Confined to the client's event loop. The exchange owns the
 * request body until {@link #finish}.
 */
public final class ProxyExchange implements BackendAttempt.Listener {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyExchange.class);

  private final ChannelHandlerContext client;
  /** The client connection's timer for the deadlines of the attempt in flight (and its clock). */
  private final Watchdog watchdog;
  private final EventLoop loop;
  private final ExchangeServices services;
  private final RoutePlan plan;
  private final ParsedRequest request;
  private final ByteBuf body;
  private final RequestContext context;
  private final RequestLogBuilder log;
  private final Limits limits;
  private final Consumer<ProxyExchange> onDone;
  private final AttemptBounds bounds;
  private final ResponseRelay relay;

  private int candidate;
  private int attempts;
  private int retriesHere;
  private BackendAttempt current;
  private BackendGuard currentGuard;
  private boolean backendReached;
  private boolean done;
  /** Whether the exchange went to the plan's last resort (it goes there once). */
  private boolean onLastResort;
  /** The candidate the exchange left last, and why: where a hop to the last resort comes from. */
  private Route leftRoute;
  private FailureClass leftReason;
  private final FailureHistory history = new FailureHistory();
  private final GatewayHeaders headers;

  /**
   * @param body   the request body; ownership passes to the exchange
   * @param onDone called once, on the event loop, when the response has ended (or the client left),
   *               after the request's log has ended
   */
  public ProxyExchange(ChannelHandlerContext client, ExchangeServices services, RoutePlan plan,
      ParsedRequest request, ByteBuf body, RequestContext context, Limits limits, Failover failover,
      Watchdog watchdog, Consumer<ProxyExchange> onDone) {
    this.client = client;
    this.watchdog = watchdog;
    this.loop = client.channel().eventLoop();
    this.services = services;
    this.plan = plan;
    this.request = request;
    this.body = body;
    this.context = context;
    this.log = context.log();
    this.limits = limits;
    this.onDone = onDone;
    long sinceArrival = Math.max(0, System.nanoTime() - log.log().receivedNanos());
    this.bounds = new AttemptBounds(failover, watchdog, sinceArrival);
    this.headers = new GatewayHeaders(plan, history);
    this.relay = new ResponseRelay(client, context, request, this::decorate);
    log.route(plan.tier(), plan.rule(), plan.signal());
  }

  public RequestContext context() {
    return context;
  }

  /** Headers added to whatever response this exchange gives (rate-limit figures). */
  public ProxyExchange withResponseHeaders(HttpHeaders headers) {
    this.headers.extra(headers);
    return this;
  }

  public boolean isDone() {
    return done;
  }

  /** Starts the first attempt; call on the client's event loop. */
  public void start() {
    tryCandidate();
  }

  /** Starts an attempt on the current candidate, or skips to the next one that can take it. */
  private void tryCandidate() {
    while (!done) {
      if (candidate >= plan.candidates().size()) {
        if (!tryLastResort()) {
          giveUp();
        }
        return;
      }
      if (bounds.spent(attempts)) {
        LOG.debug("rid={} failover budget spent after {} attempts", context.requestId(), attempts);
        if (leftRoute == null) {
          leftRoute = plan.candidates().get(candidate);
          leftReason = history.lastClass();
        }
        if (!tryLastResort()) {
          giveUp();
        }
        return;
      }
      Route route = plan.candidates().get(candidate);
      Unavailable skip = bounds.contextTooSmall(route) ? Unavailable.CONTEXT_TOO_SMALL : null;
      BackendGuard guard = services.guards().guard(route.backend());
      if (skip == null) {
        skip = guard.tryAcquire();
      }
      if (skip == null) {
        launch(route, guard);
        return;
      }
      services.events().skipped(route, skip);
      history.skipped(route.backend().name(), skip);
      leftRoute = route;
      leftReason = skip == Unavailable.CONTEXT_TOO_SMALL ? FailureClass.CONTEXT_LENGTH : FailureClass.UNAVAILABLE;
      candidate++;
      retriesHere = 0;
    }
  }

  /**
   * Every candidate failed before answering: one attempt on the plan's last resort, if it has one,
   * has not been tried, serves this endpoint and can take the request now.
   *
   * @return whether an attempt started (else the caller gives up)
   */
  private boolean tryLastResort() {
    Route route = plan.lastResort();
    if (route == null || onLastResort || leftRoute == null
        || request.endpoint() == dev.llmgw.core.api.Endpoint.EMBEDDINGS) {
      return false;
    }
    onLastResort = true;
    if (bounds.contextTooSmall(route)) {
      return false;
    }
    BackendGuard guard = services.guards().guard(route.backend());
    Unavailable skip = guard.tryAcquire();
    if (skip != null) {
      services.events().skipped(route, skip);
      history.skipped(route.backend().name(), skip);
      return false;
    }
    LOG.debug("rid={} every candidate failed; last resort {}", context.requestId(), route.alias().alias());
    history.lastResort(route.alias().alias());
    log.fellBack();
    FailureClass reason = leftReason == null ? FailureClass.UNAVAILABLE : leftReason;
    services.events().fellBack(leftRoute, route, reason);
    services.events().lastResort(leftRoute, route, reason);
    launch(route, guard);
    return true;
  }

  private void launch(Route route, BackendGuard guard) {
    attempts++;
    backendReached = true;
    currentGuard = guard;
    log.attemptStarted(route.backend().name(), route.alias().alias(), route.alias().price(), System.nanoTime());
    services.events().attemptStarted(route);
    current = new BackendAttempt(route, request, body, context.requestId(), services.pools(), loop, watchdog,
        plan.timeouts().applyTo(route.backend().timeouts()), limits.maxErrorBodyBytes(), this, context.trace()
        .attempt(route, attempts, retriesHere > 0, retriesHere > 0 ? history.lastClass() : leftReason, onLastResort));
    current.start();
  }

  @Override
  public void onResponseHead(BackendAttempt attempt, HttpResponse head) {
    if (attempt == current && !done) {
      relay.head(head);
    }
  }

  @Override
  public void onContent(BackendAttempt attempt, HttpContent content) {
    if (attempt != current || done) {
      content.release();
      return;
    }
    String backend = attempt.route().backend().name();
    switch (relay.content(content, backend)) {
      case MORE -> {
        if (!client.channel().isWritable()) {
          // stop at once: the backend channel reads on its own, up to 16 reads per event otherwise
          attempt.pausedByClient(true);
        }
      }
      case MALFORMED -> {
        // its connection is closed, not reused; the exchange hears of it as of any failure (onFailure)
        attempt.fail(FailureClassifier.malformed(backend, "its response body is not a well-formed JSON object"), null);
      }
      case BROKEN -> { // committed: ends the stream broken
        attempt.trace.failed(relay.brokenFailure().failureClass());
        onFailure(attempt, relay.brokenFailure(), null);
      }
      case COMPLETE -> {
        currentGuard.onSuccess(attempt.startNanos);
        finish(Outcome.SERVED);
      }
    }
  }

  @Override
  public void onReadComplete(BackendAttempt attempt) {
    if (attempt == current && !done) {
      client.flush(); // onContent paused the backend if the client could not take more
    }
  }

  /** The client's channel became writable again: resume reading the backend. */
  public void onClientWritable() {
    if (current != null && !done && client.channel().isWritable()) {
      current.pausedByClient(false); // a no-op unless the attempt had paused
    }
  }

  @Override
  public void onFailure(BackendAttempt attempt, Failure failure, Duration retryAfter) {
    if (attempt != current || done) {
      return;
    }
    FailureClass fc = failure.failureClass();
    Route route = attempt.route();
    currentGuard.onFailure(attempt.startNanos, fc);
    services.events().attemptFailed(route, fc, System.nanoTime() - attempt.startNanos, relay.committed());
    if (fc.misconfiguration()) {
      LOG.warn("rid={} backend={} needs an operator: {}", context.requestId(), route.backend().name(),
          failure.clientError().message());
    } else {
      LOG.debug("rid={} backend={} attempt failed: {}", context.requestId(), route.backend().name(), fc.tag());
    }
    if (relay.committed()) {
      GatewayError error = failure.clientError();
      LOG.warn("rid={} backend={} failed after the response started: {}", context.requestId(),
          route.backend().name(), error.message());
      log.error(error.code());
      relay.terminate(error);
      finish(Outcome.STREAM_CUT);
      return;
    }
    relay.discard();
    chargeFailedAttempt(route, fc);
    history.failed(route.backend().name(), failure, retryAfter);
    if (!fc.fallback()) {
      respondError(failure.clientError(), null);
      return;
    }
    if (fc == FailureClass.CONTEXT_LENGTH) {
      bounds.contextExceeded(route);
    }
    Duration wait = onLastResort ? null
        : bounds.retryWait(fc, retryAfter, route, retriesHere, attempts, currentGuard);
    if (wait == null) {
      moveOn(route, fc);
      return;
    }
    retriesHere++;
    log.retried();
    services.events().retried(route, fc);
    BackendGuard guard = currentGuard;
    loop.schedule(() -> {
      if (!done) {
        if (guard.tryAcquire() == null) {
          launch(route, guard);
        } else {
          moveOn(route, fc);
        }
      }
    }, wait.toNanos(), TimeUnit.NANOSECONDS);
  }

  private void moveOn(Route from, FailureClass reason) {
    history.left(from.backend().name(), reason.tag());
    leftRoute = from;
    leftReason = reason;
    if (onLastResort) { // the last resort failed too
      giveUp();
      return;
    }
    candidate++;
    retriesHere = 0;
    if (candidate < plan.candidates().size()) {
      log.fellBack();
      services.events().fellBack(from, plan.candidates().get(candidate), reason);
    }
    tryCandidate();
  }

  /** Every candidate failed or was unavailable: answer the most telling error once. */
  private void giveUp() {
    respondError(history.finalError(plan, services.hint()), history.finalRetryAfter());
  }

  private void respondError(GatewayError error, Duration retryAfter) {
    FullHttpResponse r = ClientResponses.response(HttpResponseStatus.valueOf(error.status()),
        Unpooled.wrappedBuffer(error.toJsonBytes()), context.requestId(), context.keepAlive());
    decorate(r.headers());
    if (retryAfter != null) {
      r.headers().set(io.netty.handler.codec.http.HttpHeaderNames.RETRY_AFTER,
          ClientResponses.retryAfterSeconds(retryAfter.toMillis()));
    }
    log.error(error.code() == null ? error.type() : error.code());
    ClientResponses.write(client, r, context.keepAlive(), log);
    finish(Outcome.FAILED);
  }

  /** The gateway's own headers, added to a head built fresh. */
  private void decorate(HttpHeaders h) {
    headers.addTo(h, attempts, log.log().backend());
  }

  /** A failed attempt a provider may bill ({@link FailureClass#mayBeBilled}): its prompt at that model's price. */
  private void chargeFailedAttempt(Route route, FailureClass fc) {
    Price p = route.alias().price();
    if (fc.mayBeBilled() && p != null) {
      log.failedAttemptCost(p.cost(TokenEstimator.promptTokens(request.json()), 0, 0));
    }
  }

  /** The client closed its connection: end the backend call now and free everything. */
  public void cancel() {
    finish(Outcome.CLIENT_GONE);
  }

  /** Ends the exchange once: frees the attempt and the body, records usage, ends the log, tells the owner. */
  private void finish(Outcome outcome) {
    if (done) {
      return;
    }
    done = true;
    if (current != null && !current.isDone()) {
      current.cancel();
      currentGuard.release();
    }
    body.release();
    relay.recordUsage(backendReached, outcome == Outcome.CLIENT_GONE);
    log.end(outcome);
    onDone.accept(this);
  }
}
