package dev.llmgw.core.exchange;

import dev.llmgw.core.config.Failover;
import dev.llmgw.core.config.Limits;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.log.RequestLog;
import dev.llmgw.core.resilience.BackendGuard;
import dev.llmgw.core.config.Price;
import dev.llmgw.core.resilience.FailureClass;
import dev.llmgw.core.resilience.FailureClassifier;
import dev.llmgw.core.resilience.FailureClassifier.Failure;
import dev.llmgw.core.resilience.Unavailable;
import dev.llmgw.core.route.Route;
import dev.llmgw.core.route.RoutePlan;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import dev.llmgw.core.upstream.UpstreamRequests;
import dev.llmgw.core.usage.TokenEstimator;
import dev.llmgw.core.usage.TokenUsage;
import dev.llmgw.core.usage.UsageTap;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client request: tries its {@link RoutePlan}'s candidates in order — retrying a backend for
 * retryable failures, falling back to the next one otherwise — until one answers, and relays that
 * answer chunk by chunk.
 *
 * <pre>
 *  client ─▶ ProxyExchange ─▶ BackendAttempt(candidate 0) ─✗─▶ retry / BackendAttempt(candidate 1) ─▶ ...
 *  client ◀── head + chunks ◀── the attempt that answered (reads paced by the client's writability)
 * </pre>
 *
 * <p><b>Fallback boundary = the first byte sent to the client.</b> A 2xx head is held until the first
 * body chunk arrives; until then any failure may retry or fall back (the body is replayed from the
 * exchange's copy). After it, a failure ends the stream: an SSE error event in the OpenAI shape and a
 * close for event streams, a bare close (truncated body) otherwise — never a clean end with half an
 * answer.
 *
 * <p><b>Bounds.</b> At most {@link Failover#maxAttempts()} attempts; no attempt starts after the
 * failover deadline; a backend's {@code Retry-After} is waited out only if it fits both the deadline
 * and {@link Failover#maxRetryAfter()}.
 *
 * <p><b>Threading and ownership.</b> Confined to the client's event loop. The exchange owns the
 * request body until {@link #finish}; chunks handed over by an attempt are written to the client or
 * released.
 */
public final class ProxyExchange implements BackendAttempt.Listener {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyExchange.class);
  /** Largest SSE event held while framing a stream whose usage chunk is stripped. */
  private static final int MAX_EVENT_BYTES = 1 << 20;

  private final ChannelHandlerContext client;
  /** The client connection's timer for the deadlines of the attempt in flight. */
  private final Watchdog watchdog;
  private final EventLoop loop;
  private final ExchangeServices services;
  private final RoutePlan plan;
  private final ParsedRequest request;
  private final ByteBuf body;
  private final String requestId;
  private boolean keepAlive; // turned off for an HTTP/1.0 client and a body of unknown length
  private boolean http10;
  private final Limits limits;
  private final Failover failover;
  private final RequestLog log;
  private final Consumer<ProxyExchange> onDone;
  private final long deadlineNanos;

  private int candidate;
  private int attempts;
  private int retriesHere;
  private BackendAttempt current;
  private BackendGuard currentGuard;
  private HttpResponse heldHead;
  private UsageTap tap;
  private final List<ByteBuf> tapped = new ArrayList<>(4);
  private boolean backendReached;
  private boolean committed;
  private boolean eventStream;
  private boolean done;
  private Failure lastFailure;
  private Duration lastRetryAfter;
  private int contextExceededAt = -1;
  private final StringBuilder fallbackTrail = new StringBuilder();
  private final StringBuilder unavailable = new StringBuilder();
  private io.netty.handler.codec.http.HttpHeaders extraHeaders;

  /**
   * @param body   the request body; ownership passes to the exchange
   * @param onDone called once, on the event loop, when the response has ended (or the client left)
   */
  public ProxyExchange(ChannelHandlerContext client, ExchangeServices services, RoutePlan plan,
      ParsedRequest request, ByteBuf body, String requestId, boolean keepAlive, Limits limits, Failover failover,
      RequestLog log, Watchdog watchdog, Consumer<ProxyExchange> onDone) {
    this.client = client;
    this.watchdog = watchdog;
    this.loop = client.channel().eventLoop();
    this.services = services;
    this.plan = plan;
    this.request = request;
    this.body = body;
    this.requestId = requestId;
    this.keepAlive = keepAlive;
    this.limits = limits;
    this.failover = failover;
    this.log = log;
    this.onDone = onDone;
    this.deadlineNanos = log.startNanos + failover.deadline().toNanos();
    log.tier = plan.tier();
    log.rule = plan.rule();
    log.signal = plan.signal();
  }

  public RequestLog log() {
    return log;
  }

  /** Headers added to whatever response this exchange gives (rate-limit figures). */
  /** The client spoke HTTP/1.0: no chunked coding in the response (RFC 9112 §6.1). */
  public ProxyExchange forHttp10(boolean http10) {
    this.http10 = http10;
    return this;
  }

  public ProxyExchange withResponseHeaders(io.netty.handler.codec.http.HttpHeaders headers) {
    this.extraHeaders = headers;
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
        giveUp();
        return;
      }
      if (attempts >= failover.maxAttempts() || System.nanoTime() >= deadlineNanos) {
        LOG.debug("rid={} failover budget spent after {} attempts", requestId, attempts);
        giveUp();
        return;
      }
      Route route = plan.candidates().get(candidate);
      Unavailable skip = contextTooSmall(route) ? Unavailable.CONTEXT_TOO_SMALL : null;
      BackendGuard guard = services.guards().guard(route.backend());
      if (skip == null) {
        skip = guard.tryAcquire();
      }
      if (skip != null) {
        services.events().skipped(route, skip);
        if (unavailable.length() > 0) {
          unavailable.append("; ");
        }
        unavailable.append(route.backend().name()).append(": ").append(skip.message());
        if (lastFailure == null || lastFailure.failureClass() == FailureClass.UNAVAILABLE) {
          lastFailure = FailureClassifier.unavailable(route.backend().name(), skip.message());
        }
        trail(route, "unavailable");
        candidate++;
        retriesHere = 0;
        continue;
      }
      launch(route, guard);
      return;
    }
  }

  private void launch(Route route, BackendGuard guard) {
    attempts++;
    backendReached = true;
    currentGuard = guard;
    log.backend = route.backend().name();
    log.alias = route.alias().alias();
    log.price = route.alias().price();
    if (log.firstAttemptNanos == 0) {
      log.firstAttemptNanos = System.nanoTime();
    }
    services.events().attemptStarted(route);
    current = new BackendAttempt(route, request, body, requestId, services.pools(), loop, watchdog,
        plan.timeouts().applyTo(route.backend().timeouts()),
        limits.maxErrorBodyBytes(), this);
    current.start();
  }

  @Override
  public void onResponseHead(BackendAttempt attempt, HttpResponse head) {
    if (attempt != current || done) {
      return;
    }
    heldHead = head; // not sent yet: the first body chunk commits (see class doc)
    eventStream = ResponseHeads.isEventStream(head);
    if (tap != null) {
      tap.release();
    }
    // every proxied endpoint answers JSON or an event stream: any other 2xx body is checked as JSON
    // (and found malformed) rather than relayed as a success
    tap = eventStream ? UsageTap.forEventStream(UpstreamRequests.injectsUsage(request), MAX_EVENT_BYTES)
        : UsageTap.forJson();
  }

  @Override
  public void onContent(BackendAttempt attempt, HttpContent content) {
    if (attempt != current || done) {
      content.release();
      return;
    }
    boolean last = content instanceof LastHttpContent;
    tap(content, last); // the tap owns the chunk now; what to forward is in tapped
    if (!committed) {
      if (!eventStream && tap.malformed()) { // before the first byte: a backend failure like a 500
        releaseTapped();
        attempt.cancel(); // its connection is closed, not reused
        onFailure(attempt, FailureClassifier.malformed(attempt.route().backend().name(),
            "its response body is not a well-formed JSON object"), null);
        return;
      }
      committed = true;
      log.firstByteNanos = System.nanoTime();
      log.status = heldHead.status().code();
      boolean bodyChanges = eventStream && UpstreamRequests.injectsUsage(request);
      if (http10 && !ResponseHeads.lengthKnown(heldHead, bodyChanges)) {
        keepAlive = false; // an HTTP/1.0 client: no chunked coding, the body ends with the connection
      }
      HttpResponse head = ResponseHeads.forClient(heldHead, requestId, attempt.route().backend().name(), keepAlive,
          bodyChanges, !http10);
      decorate(head.headers());
      client.write(head);
      heldHead = null;
    }
    if (last) {
      Failure broken = eventStream && !tap.sawDone()
          ? FailureClassifier.incompleteStream(attempt.route().backend().name())
          : !eventStream && tap.malformed() ? FailureClassifier.malformed(attempt.route().backend().name(),
              "its response body ended without a well-formed JSON object") : null;
      writeTapped(content, broken == null);
      if (broken != null) { // a truncated answer is never a clean end (SSE: an error event; JSON: a cut)
        onFailure(attempt, broken, null);
        return;
      }
      client.flush();
      currentGuard.onSuccess(attempt.startNanos);
      if (!keepAlive) {
        client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
      finish();
      return;
    }
    writeTapped(content, false);
    if (!client.channel().isWritable()) {
      // stop at once: the backend channel reads on its own, up to 16 reads per event otherwise
      attempt.pausedByClient(true);
    }
  }

  /** Passes a chunk through the usage tap (which takes ownership of it); what to forward is in {@link #tapped}. */
  private void tap(HttpContent content, boolean last) {
    tapped.clear();
    if (last) {
      tap.onLastChunk(content.content(), tapped);
    } else {
      tap.onChunk(content.content(), tapped);
    }
  }

  private void releaseTapped() {
    for (ByteBuf b : tapped) {
      b.release();
    }
    tapped.clear();
  }

  /**
   * Writes what the tap gave for {@code content} to the client (taking ownership of it). In the
   * common case that is the very same buffer and the original {@link HttpContent} is written;
   * otherwise (a stripped usage event, an event held across chunks) the tap's buffers are wrapped.
   *
   * @param end whether to end the response here (the body's last chunk, and nothing wrong with it)
   */
  private void writeTapped(HttpContent content, boolean end) {
    boolean last = content instanceof LastHttpContent;
    ByteBuf in = content.content();
    boolean same = tapped.size() == 1 && tapped.get(0) == in;
    if (same && (!last || end)) {
      log.bytesOut += in.readableBytes();
      client.write(content);
      tapped.clear();
      return;
    }
    for (ByteBuf b : tapped) {
      log.bytesOut += b.readableBytes();
      client.write(new DefaultHttpContent(b));
    }
    if (end) {
      client.write(LastHttpContent.EMPTY_LAST_CONTENT);
    }
    tapped.clear();
  }

  @Override
  public void onReadComplete(BackendAttempt attempt) {
    if (attempt != current || done) {
      return;
    }
    client.flush(); // onContent paused the backend if the client could not take more
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
    services.events().attemptFailed(route, fc, System.nanoTime() - attempt.startNanos, committed);
    if (fc.misconfiguration()) {
      LOG.warn("rid={} backend={} needs an operator: {}", requestId, route.backend().name(),
          failure.clientError().message());
    } else {
      LOG.debug("rid={} backend={} attempt failed: {}", requestId, route.backend().name(), fc.tag());
    }
    if (committed) {
      terminateStream(failure.clientError());
      return;
    }
    heldHead = null;
    if (tap != null) {
      tap.release();
      tap = null;
    }
    chargeFailedAttempt(route, fc);
    lastFailure = failure;
    lastRetryAfter = retryAfter;
    if (!fc.fallback()) {
      respondError(failure.clientError(), null);
      return;
    }
    if (fc == FailureClass.CONTEXT_LENGTH) {
      contextExceededAt = route.alias().contextTokens();
    }
    Duration wait = retryWait(fc, retryAfter, route);
    if (wait != null) {
      retriesHere++;
      log.retries++;
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
      return;
    }
    moveOn(route, fc);
  }

  private void moveOn(Route from, FailureClass reason) {
    trail(from, reason.tag());
    candidate++;
    retriesHere = 0;
    if (candidate < plan.candidates().size()) {
      log.fallbacks++;
      services.events().fellBack(from, plan.candidates().get(candidate), reason);
    }
    tryCandidate();
  }

  /** How long to wait before retrying the same backend, or null to move on. */
  private Duration retryWait(FailureClass fc, Duration retryAfter, Route route) {
    if (!fc.retryable() || retriesHere + 1 >= route.backend().resilience().retry().maxAttempts()
        || attempts >= failover.maxAttempts()) {
      return null;
    }
    Duration wait = retryAfter != null ? retryAfter : currentGuard.backoff(retriesHere + 1);
    if (retryAfter != null && retryAfter.compareTo(failover.maxRetryAfter()) > 0) {
      return null; // a long wait: the next backend answers sooner
    }
    if (System.nanoTime() + wait.toNanos() >= deadlineNanos) {
      return null;
    }
    return wait;
  }

  private boolean contextTooSmall(Route route) {
    if (contextExceededAt < 0) {
      return false;
    }
    int window = route.alias().contextTokens();
    return contextExceededAt == 0 || window <= contextExceededAt;
  }

  private void trail(Route route, String reason) {
    if (fallbackTrail.length() > 0) {
      fallbackTrail.append(", ");
    }
    fallbackTrail.append(route.backend().name()).append('=').append(reason);
  }

  /** Every candidate failed or was unavailable: answer the most telling error once. */
  private void giveUp() {
    GatewayError error;
    if (lastFailure == null) {
      error = GatewayError.unavailable("No backend could take the request.");
    } else if (lastFailure.failureClass() == FailureClass.UNAVAILABLE) {
      error = GatewayError.noBackendAvailable(unavailable.toString());
    } else {
      error = lastFailure.clientError();
    }
    respondError(error, lastFailure != null && lastFailure.failureClass() == FailureClass.RATE_LIMITED
        ? lastRetryAfter : null);
  }

  private void respondError(GatewayError error, Duration retryAfter) {
    log.errorCode = error.code() == null ? error.type() : error.code();
    log.outcome = "error";
    FullHttpResponse r = ClientResponses.response(HttpResponseStatus.valueOf(error.status()),
        Unpooled.wrappedBuffer(error.toJsonBytes()), requestId, keepAlive);
    decorate(r.headers());
    if (retryAfter != null) {
      r.headers().set("retry-after", ClientResponses.retryAfterSeconds(retryAfter.toMillis()));
    }
    ClientResponses.write(client, r, keepAlive, log);
    finish();
  }

  /** The gateway's own headers, added to a head built fresh (none of them is there yet). */
  private void decorate(io.netty.handler.codec.http.HttpHeaders h) {
    if (extraHeaders != null) {
      h.add(extraHeaders);
    }
    h.addInt(ResponseHeads.X_GATEWAY_ATTEMPTS, attempts);
    if (fallbackTrail.length() > 0) {
      h.add(ResponseHeads.X_GATEWAY_FALLBACK, fallbackTrail.toString());
    }
    if (plan.tier() != null) {
      h.add(ResponseHeads.X_GATEWAY_TIER, plan.tier());
      h.add(ResponseHeads.X_GATEWAY_RULE, plan.rule());
    }
    if (plan.downgradedFrom() != null) {
      h.add(ResponseHeads.X_GATEWAY_DOWNGRADED, plan.downgradedFrom() + "->" + plan.tier());
    }
    if (log.backend != null && !h.contains(ClientResponses.X_GATEWAY_BACKEND)) {
      h.add(ClientResponses.X_GATEWAY_BACKEND, log.backend);
    }
  }

  /** A failure after the first byte: end the stream visibly broken. */
  private void terminateStream(GatewayError error) {
    log.outcome = "stream_error";
    log.errorCode = error.code();
    LOG.warn("rid={} backend={} failed after the response started: {}", requestId, log.backend, error.message());
    if (eventStream) {
      // the error event, then a proper end of the chunked body: the connection stays usable for the
      // client's next request (closing after a complete response poisons keep-alive pools)
      client.write(ResponseHeads.sseError(error, client.alloc()));
      var f = client.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
      if (!keepAlive) {
        f.addListener(ChannelFutureListener.CLOSE);
      }
    } else {
      client.flush();
      client.close(); // truncated body: the client sees a broken response, never a clean end
    }
    finish();
  }

  /**
   * Records what the request consumed: the backend's own usage when it reported it; otherwise, when
   * a backend was reached (a cut or cancelled stream, a server that reports none), an estimate with
   * the tokenizer over the prompt and the text relayed so far — marked estimated, never zero.
   */
  private void recordUsage() {
    TokenUsage usage = tap == null ? null : tap.usage();
    if (usage != null) {
      log.promptTokens = usage.promptTokens();
      log.completionTokens = usage.completionTokens();
      log.cachedPromptTokens = usage.cachedPromptTokens();
    } else if (backendReached && (committed || "client_closed".equals(log.outcome))) {
      log.promptTokens = TokenEstimator.promptTokens(request.json());
      log.completionTokens = tap == null ? 0 : TokenEstimator.count(tap.generatedText());
      log.usageEstimated = true;
    }
    if (tap != null) {
      tap.release();
    }
  }

  /**
   * An attempt that timed out after the provider accepted it may be billed (it read the prompt and
   * may have generated): charged as its prompt at that model's price, marked estimated. A refused
   * connection, a 429 or a 5xx answer is not billed by providers and costs nothing.
   */
  private void chargeFailedAttempt(Route route, FailureClass fc) {
    if (fc != FailureClass.TTFB_TIMEOUT && fc != FailureClass.IDLE_TIMEOUT && fc != FailureClass.TOTAL_TIMEOUT) {
      return;
    }
    Price p = route.alias().price();
    if (p != null) {
      log.failedAttemptCost += p.cost(TokenEstimator.promptTokens(request.json()), 0, 0);
    }
  }

  /** Turns the recorded token usage into money: the serving model's price, and the baseline's. */
  private void priceUsage() {
    if (log.failedAttemptCost > 0) {
      log.usageEstimated = true;
    }
    if (log.promptTokens < 0) {
      if (log.failedAttemptCost > 0) {
        log.cost = log.failedAttemptCost; // nothing served, but timed-out attempts may be billed
      }
      return;
    }
    long completion = Math.max(0, log.completionTokens);
    if (log.price != null) {
      log.cost = log.price.cost(log.promptTokens, log.cachedPromptTokens, completion) + log.failedAttemptCost;
    }
    if (log.baselinePrice != null) {
      log.baselineCost = log.baselinePrice.cost(log.promptTokens, log.cachedPromptTokens, completion);
    }
  }

  /** The client closed its connection: end the backend call now and free everything. */
  public void cancel() {
    if (done) {
      return;
    }
    log.outcome = "client_closed";
    if (log.status == 0) {
      log.status = 499;
    }
    if (current != null && !current.isDone()) {
      current.cancel();
      currentGuard.release();
    }
    finish();
  }

  private void finish() {
    if (done) {
      return;
    }
    done = true;
    log.attempts = attempts;
    if (current != null && !current.isDone()) {
      current.cancel();
      currentGuard.release();
    }
    body.release();
    recordUsage();
    priceUsage();
    services.events().completed(log);
    onDone.accept(this);
  }
}
