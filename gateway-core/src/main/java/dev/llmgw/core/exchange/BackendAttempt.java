package dev.llmgw.core.exchange;

import dev.llmgw.core.config.Timeouts;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.resilience.FailureClass;
import dev.llmgw.core.resilience.FailureClassifier;
import dev.llmgw.core.resilience.FailureClassifier.Failure;
import dev.llmgw.core.route.Route;
import dev.llmgw.core.trace.AttemptTrace;
import dev.llmgw.core.upstream.BackendRelayHandler;
import dev.llmgw.core.upstream.ConnectionSource;
import dev.llmgw.core.upstream.UpstreamRequests;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.pool.ChannelPool;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One try of one backend: acquire a pooled connection, send the request, read the response and
 * report to the {@link Listener}. Not thread-safe: confined to the client's event loop, like the
 * pooled backend channel it uses. A fresh attempt is made for every retry and fallback, so retries
 * start clean by construction.
 *
 * <p>Ownership: the request body is borrowed (each send uses a retained duplicate). Every backend
 * message is either handed to the listener (which then owns it) or released here.
 *
 * <p>Timeouts: first byte (request sent → response head), idle (between reads), total (this
 * attempt, start to end). A stale pooled connection (closed by the backend while idle, nothing
 * received yet) is retried once on a fresh one; that is not a new attempt.
 */
final class BackendAttempt implements BackendRelayHandler.BackendListener, Watchdog.Watched {
  private static final Logger LOG = LoggerFactory.getLogger(BackendAttempt.class);

  /** The exchange side of an attempt. Every callback runs on the event loop. */
  interface Listener {
    /** A 2xx response head; nothing has been written to the client yet. */
    void onResponseHead(BackendAttempt attempt, HttpResponse head);

    /** Takes ownership of {@code content}; a {@link LastHttpContent} ends the attempt successfully. */
    void onContent(BackendAttempt attempt, HttpContent content);

    /** A read finished: flush what was relayed. */
    void onReadComplete(BackendAttempt attempt);

    /** The attempt failed; it has already let go of its connection. */
    void onFailure(BackendAttempt attempt, Failure failure, Duration retryAfter);
  }

  private enum State { CONNECTING, AWAITING_HEAD, RELAYING, READING_ERROR, DONE }

  private final Route route;
  private final ParsedRequest request;
  private final ByteBuf body;
  private final String requestId;
  private final ConnectionSource pools;
  private final EventLoop loop;
  private final Timeouts timeouts;
  private final int maxErrorBodyBytes;
  private final Listener listener;
  /** This attempt's span (its traceparent goes to the backend); a whole answer's ends after the relay's verdict. */
  final AttemptTrace trace;
  final long startNanos = System.nanoTime();

  private State state = State.CONNECTING;
  private ChannelPool pool;
  private Channel channel;
  private BackendRelayHandler relay;
  private boolean freshConnectionTried;
  private boolean backendKeepAlive = true;
  // deadlines, on the watchdog's clock (startNanos above is for durations, on System.nanoTime)
  private long lastReadNanos;
  /** The client connection's timer, for every deadline of this attempt (total, first byte, idle). */
  private final Watchdog watchdog;
  private long totalDeadlineNanos;
  private long sentNanos;
  private BackendErrorReader errorReader;

  BackendAttempt(Route route, ParsedRequest request, ByteBuf body, String requestId, ConnectionSource pools,
      EventLoop loop, Watchdog watchdog, Timeouts timeouts, int maxErrorBodyBytes, Listener listener,
      AttemptTrace trace) {
    this.route = route;
    this.request = request;
    this.body = body;
    this.requestId = requestId;
    this.pools = pools;
    this.loop = loop;
    this.watchdog = watchdog;
    this.timeouts = timeouts;
    this.maxErrorBodyBytes = maxErrorBodyBytes;
    this.listener = listener;
    this.trace = trace;
  }

  Route route() {
    return route;
  }

  private boolean reacquired;

  void start() {
    long now = watchdog.nanoTime();
    totalDeadlineNanos = now + timeouts.total().toNanos();
    // first look: the first-byte deadline as if sent now (the request is sent a moment later, so
    // the watchdog looks a little early at worst and then again for the rest), or sooner, one idle
    // period from now: a head that comes before then starts the idle deadline, checked at that look
    watchdog.watch(this, Math.min(totalDeadlineNanos, now + Math.min(timeouts.firstByte().toNanos(),
        timeouts.idle().toNanos())));
    pool = pools.pool(route.backend(), loop);
    pool.acquire().addListener(this::onAcquired);
  }

  private void onAcquired(Future<? super Channel> f) {
    if (!f.isSuccess()) {
      if (state != State.DONE && !reacquired && f.cause() instanceof IllegalStateException
          && String.valueOf(f.cause().getMessage()).contains("closed")) {
        // a reload closed the pool between the lookup and the acquire: once more, from the pool now in use
        reacquired = true;
        pool = pools.pool(route.backend(), loop);
        pool.acquire().addListener(this::onAcquired);
        return;
      }
      if (state != State.DONE) {
        fail(FailureClassifier.ofConnect(name(), f.cause()), null);
      }
      return;
    }
    Channel ch = (Channel) f.getNow();
    if (state == State.DONE) { // cancelled while connecting
      pool.release(ch);
      return;
    }
    if (!ch.isActive()) {
      pool.release(ch);
      fail(FailureClassifier.ofClosed(name(), false), null);
      return;
    }
    channel = ch;
    relay = BackendRelayHandler.of(ch);
    freshConnectionTried |= relay.attach(this) == 0;
    state = State.AWAITING_HEAD;
    var upstream = UpstreamRequests.build(route, request, body, requestId, ch.alloc());
    if (trace.recording()) {
      trace.inject(upstream.headers()::add); // the attempt's own traceparent, never the client's headers
    }
    // the void promise: no promise, listener or promise combiner per request; a failed write reaches
    // the connection's exceptionCaught, i.e. BackendRelayHandler, which tells this attempt (onBackendError)
    ch.writeAndFlush(upstream, ch.voidPromise());
    lastReadNanos = watchdog.nanoTime();
    sentNanos = lastReadNanos; // the watchdog measures the first-byte deadline from here
  }

  @Override
  public void onBackendMessage(Object msg) {
    try {
      if (state == State.DONE) {
        return;
      }
      lastReadNanos = watchdog.nanoTime();
      if (msg instanceof HttpResponse head) {
        onHead(head);
      }
      if (msg instanceof HttpContent content && state != State.DONE) {
        msg = null; // ownership passes on
        onContent(content);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onHead(HttpResponse head) {
    if (head.decoderResult().isFailure()) {
      fail(FailureClassifier.ofIo(name(), head.decoderResult().cause(), true), null);
      return;
    }
    // no timer work here: the watchdog checks the idle deadline from lastReadNanos when it wakes
    backendKeepAlive = HttpUtil.isKeepAlive(head);
    int status = head.status().code();
    trace.status(status);
    if (status >= 200 && status < 300) {
      state = State.RELAYING;
      listener.onResponseHead(this, head);
    } else {
      state = State.READING_ERROR;
      errorReader = new BackendErrorReader(name(), route.backend().providerKey().orElse(null), head,
          maxErrorBodyBytes);
    }
  }

  /** Takes ownership of {@code content}. */
  private void onContent(HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    if (state == State.RELAYING) {
      if (!last) {
        listener.onContent(this, content);
        return;
      }
      finishKeepingTrace(true); // the span waits for the relay's verdict on the body
      try {
        listener.onContent(this, content);
      } finally {
        trace.end(true);
      }
      return;
    }
    try {
      if (state == State.READING_ERROR) {
        errorReader.append(content.content());
        if (last) {
          Failure failure = errorReader.classify();
          Duration retryAfter = errorReader.retryAfter();
          trace.failed(failure.failureClass());
          finish(true);
          listener.onFailure(this, failure, retryAfter);
        }
      }
    } finally {
      content.release();
    }
  }

  @Override
  public void onBackendReadComplete() {
    if (state == State.DONE || channel == null) {
      return;
    }
    if (state == State.RELAYING) {
      listener.onReadComplete(this);
    }
  }

  @Override
  public void onBackendClosed() {
    if (state == State.DONE) {
      return;
    }
    if (state == State.AWAITING_HEAD && !freshConnectionTried) {
      // A pooled keep-alive connection the backend had closed while idle: nothing was received,
      // so sending again on a fresh connection is safe and is not a new attempt.
      LOG.debug("rid={} backend={} stale pooled connection, retrying on a fresh one", requestId, name());
      releaseChannel(false);
      state = State.CONNECTING;
      pool.acquire().addListener(this::onAcquired);
      return;
    }
    fail(FailureClassifier.ofClosed(name(), state != State.AWAITING_HEAD), null);
  }

  @Override
  public void onBackendError(Throwable cause) {
    if (state == State.DONE) {
      return;
    }
    LOG.debug("rid={} backend={} I/O error", requestId, name(), cause);
    fail(FailureClassifier.ofIo(name(), cause, state == State.RELAYING || state == State.READING_ERROR), null);
  }

  /**
   * Checks every deadline of the attempt (failing it when one has passed) and says when to look
   * next: the nearest deadline still ahead.
   */
  @Override
  public long check(long now) {
    if (state == State.DONE) {
      return Watchdog.DONE;
    }
    if (now >= totalDeadlineNanos) {
      timeout(FailureClass.TOTAL_TIMEOUT);
      return Watchdog.DONE;
    }
    long next;
    switch (state) {
      case AWAITING_HEAD -> {
        long d = sentNanos + timeouts.firstByte().toNanos();
        if (now >= d) {
          timeout(FailureClass.TTFB_TIMEOUT);
          return Watchdog.DONE;
        }
        // look again within one idle period: a head that arrives meanwhile starts the idle deadline
        // (onHead sets no timer), and no look may come later than that deadline
        next = Math.min(d, now + timeouts.idle().toNanos());
      }
      case RELAYING, READING_ERROR -> {
        long idle = timeouts.idle().toNanos();
        if (pausedByClient) {
          next = now + idle / 4; // paused because the client is slow: not the backend's fault
        } else {
          long d = lastReadNanos + idle;
          if (now >= d) {
            timeout(FailureClass.IDLE_TIMEOUT);
            return Watchdog.DONE;
          }
          next = d;
        }
      }
      // still connecting (the pool has its own timeout); looked at as often as while awaiting the head
      default -> next = now + Math.min(timeouts.firstByte().toNanos(), timeouts.idle().toNanos());
    }
    return Math.min(next, totalDeadlineNanos);
  }

  private boolean pausedByClient;

  /**
   * Stops (true) or resumes (false) reading from the backend because the client cannot take more,
   * or can again; idle time while paused is not the backend's fault.
   */
  void pausedByClient(boolean paused) {
    if (channel == null || state == State.DONE || pausedByClient == paused) {
      return;
    }
    this.pausedByClient = paused;
    if (paused) {
      relay.pause();
    } else {
      lastReadNanos = watchdog.nanoTime();
      relay.resume();
    }
  }

  private void timeout(FailureClass kind) {
    if (state == State.DONE) {
      return;
    }
    fail(FailureClassifier.ofTimeout(name(), kind), null);
  }

  /** Ends the attempt as failed and tells the listener (also the exchange's way to fail an answer it refused). */
  void fail(Failure failure, Duration retryAfter) {
    trace.failed(failure.failureClass());
    finish(false);
    listener.onFailure(this, failure, retryAfter);
  }

  /** Ends the attempt without a verdict (the client left, or the exchange gave up). */
  void cancel() {
    finish(false);
  }

  boolean isDone() {
    return state == State.DONE;
  }

  private void finish(boolean responseComplete) {
    if (finishKeepingTrace(responseComplete)) {
      trace.end(responseComplete);
    }
  }

  /** Ends the attempt but not its span; false if it had ended already. */
  private boolean finishKeepingTrace(boolean responseComplete) {
    if (state == State.DONE) {
      return false;
    }
    state = State.DONE;
    watchdog.release(this);
    releaseChannel(responseComplete);
    return true;
  }


  /**
   * Detaches from the backend channel and returns it to its pool — exactly once per acquire, as
   * the pool counts. It is reused only after a complete keep-alive response.
   */
  private void releaseChannel(boolean reusable) {
    Channel ch = channel;
    if (ch == null) {
      return;
    }
    channel = null;
    relay.detach();
    relay = null;
    if (!reusable || !backendKeepAlive) {
      ch.close();
    }
    pool.release(ch);
  }

  private String name() {
    return route.backend().name();
  }

}
