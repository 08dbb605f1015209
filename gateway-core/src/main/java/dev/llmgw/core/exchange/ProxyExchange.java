package dev.llmgw.core.exchange;

import dev.llmgw.core.config.Limits;
import dev.llmgw.core.config.Timeouts;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.log.RequestLog;
import dev.llmgw.core.route.Route;
import dev.llmgw.core.upstream.BackendPools;
import dev.llmgw.core.upstream.BackendRelayHandler;
import dev.llmgw.core.upstream.UpstreamRequests;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.pool.ChannelPool;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client request forwarded to one backend: acquire a pooled connection, send, relay the
 * response back chunk by chunk, end once.
 *
 * <pre>
 *  client ──request──▶ ProxyExchange ──FullHttpRequest──▶ backend (pooled, AUTO_READ off)
 *  client ◀──head+chunks── ProxyExchange ◀──HttpObjects── BackendRelayHandler
 *                 reads paced: backend.read() only while the client channel is writable
 * </pre>
 *
 * <p><b>Threading.</b> Everything runs on the client channel's event loop: the backend channel is
 * pooled per event loop ({@link BackendPools}), so no field needs synchronisation.
 *
 * <p><b>Ownership.</b> The exchange owns the request body until {@link #finish}; each attempt sends a
 * retained duplicate. It takes ownership of every backend message: a chunk is either written to the
 * client (which then owns it) or released here.
 *
 * <p><b>Commit boundary.</b> Nothing reaches the client before a 2xx response head arrives. Before
 * that, a failure answers one error response (and a stale pooled connection is retried once on a
 * fresh one); after it, a failure ends the stream: an SSE error event and a close for event streams,
 * a bare close (truncated body) otherwise. Never a clean end with half an answer.
 */
public final class ProxyExchange implements BackendRelayHandler.BackendListener {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyExchange.class);

  private enum State { CONNECTING, AWAITING_HEAD, RELAYING, READING_ERROR, DONE }

  private final ChannelHandlerContext client;
  private final EventLoop loop;
  private final BackendPools pools;
  private final Route route;
  private final ParsedRequest request;
  private final ByteBuf body;
  private final String requestId;
  private final boolean keepAlive;
  private final Limits limits;
  private final Timeouts timeouts;
  private final RequestLog log;
  private final Consumer<ProxyExchange> onDone;

  private State state = State.CONNECTING;
  private ChannelPool pool;
  private Channel backend;
  private boolean freshConnectionTried;
  private boolean readPending;
  private boolean eventStream;
  private boolean backendKeepAlive = true;
  private long lastBackendReadNanos;
  private ScheduledFuture<?> totalTimer;
  private ScheduledFuture<?> responseTimer;
  private BackendErrorReader errorReader;

  /**
   * @param body   the request body; ownership passes to the exchange
   * @param onDone called once, on the event loop, when the response has ended (or the client left)
   */
  public ProxyExchange(ChannelHandlerContext client, BackendPools pools, Route route, ParsedRequest request,
      ByteBuf body, String requestId, boolean keepAlive, Limits limits, RequestLog log,
      Consumer<ProxyExchange> onDone) {
    this.client = client;
    this.loop = client.channel().eventLoop();
    this.pools = pools;
    this.route = route;
    this.request = request;
    this.body = body;
    this.requestId = requestId;
    this.keepAlive = keepAlive;
    this.limits = limits;
    this.timeouts = route.backend().timeouts();
    this.log = log;
    this.onDone = onDone;
  }

  /** Starts the exchange; must be called on the client's event loop. */
  public void start() {
    log.backend = route.backend().name();
    totalTimer = loop.schedule(() -> onTimeout("total"), timeouts.total().toNanos(), TimeUnit.NANOSECONDS);
    pool = pools.pool(route.backend(), loop);
    pool.acquire().addListener(this::onAcquired);
  }

  public boolean isDone() {
    return state == State.DONE;
  }

  private void onAcquired(Future<? super Channel> f) {
    if (!f.isSuccess()) {
      if (state != State.DONE) {
        fail(ExchangeFailures.connectFailure(route.backend().name(), f.cause()));
      }
      return;
    }
    Channel ch = (Channel) f.getNow();
    if (state != State.DONE && !ch.isActive()) {
      pool.release(ch);
      fail(GatewayError.backendUnavailable(route.backend().name(), "connection closed"));
      return;
    }
    if (state == State.DONE) { // the client left while we were connecting
      pool.release(ch);
      return;
    }
    backend = ch;
    int[] uses = ch.attr(BackendPools.USES).get();
    boolean reused = uses[0]++ > 0;
    freshConnectionTried |= !reused;
    ch.pipeline().addLast(BackendRelayHandler.NAME, new BackendRelayHandler(this));
    state = State.AWAITING_HEAD;
    ch.writeAndFlush(UpstreamRequests.build(route, request, body, requestId, ch.alloc()))
        .addListener((ChannelFutureListener) wf -> {
          if (!wf.isSuccess() && wf.channel() == backend) {
            onBackendError(wf.cause());
          }
        });
    lastBackendReadNanos = System.nanoTime();
    responseTimer = loop.schedule(() -> onTimeout("first-byte"), timeouts.firstByte().toNanos(),
        TimeUnit.NANOSECONDS);
    ch.read();
  }

  @Override
  public void onBackendMessage(Object msg) {
    try {
      if (state == State.DONE) {
        return;
      }
      lastBackendReadNanos = System.nanoTime();
      if (msg instanceof HttpResponse head) {
        onResponseHead(head);
      }
      if (msg instanceof HttpContent content && state != State.DONE) {
        onContent(content);
        msg = null; // ownership passed on
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onResponseHead(HttpResponse head) {
    if (head.decoderResult().isFailure()) {
      fail(GatewayError.backendFailed(route.backend().name(), "malformed response"));
      return;
    }
    cancel(responseTimer);
    backendKeepAlive = HttpUtil.isKeepAlive(head);
    int status = head.status().code();
    if (status >= 200 && status < 300) {
      eventStream = ResponseHeads.isEventStream(head);
      log.firstByteNanos = System.nanoTime();
      log.status = status;
      state = State.RELAYING;
      client.write(ResponseHeads.forClient(head, requestId, route.backend().name(), keepAlive));
    } else {
      state = State.READING_ERROR;
      errorReader = new BackendErrorReader(route.backend().name(), head, limits.maxErrorBodyBytes());
    }
    responseTimer = loop.schedule(this::onIdleCheck, timeouts.idle().toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Takes ownership of {@code content}. */
  private void onContent(HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    if (state == State.RELAYING) {
      log.bytesOut += content.content().readableBytes();
      client.write(content);
      if (last) {
        client.flush();
        complete();
      }
      return;
    }
    try {
      if (state == State.READING_ERROR) {
        errorReader.append(content.content());
        if (last) {
          GatewayError e = errorReader.toClientError();
          releaseBackend(true);
          respondError(e);
        }
      }
      // AWAITING_HEAD: a stray chunk before any head cannot happen with HttpClientCodec; drop it
    } finally {
      content.release();
    }
  }

  @Override
  public void onBackendReadComplete() {
    if (state == State.DONE || backend == null) {
      return;
    }
    if (state == State.RELAYING) {
      client.flush();
      if (!client.channel().isWritable()) {
        readPending = true; // resumed by onClientWritable
        return;
      }
    }
    backend.read();
  }

  /** The client's channel became writable again: resume reading the backend. */
  public void onClientWritable() {
    if (readPending && state == State.RELAYING && backend != null && client.channel().isWritable()) {
      readPending = false;
      backend.read();
    }
  }

  @Override
  public void onBackendClosed() {
    if (state == State.DONE) {
      return;
    }
    if (state == State.AWAITING_HEAD && !freshConnectionTried) {
      // A pooled keep-alive connection the backend had already closed: nothing was received, so
      // sending again on a fresh connection is safe.
      LOG.debug("rid={} backend={} stale pooled connection, retrying on a fresh one", requestId,
          route.backend().name());
      releaseBackend(false);
      cancel(responseTimer);
      state = State.CONNECTING;
      pool.acquire().addListener(this::onAcquired);
      return;
    }
    fail(GatewayError.backendFailed(route.backend().name(), "connection closed before the response ended"));
  }

  @Override
  public void onBackendError(Throwable cause) {
    if (state == State.DONE) {
      return;
    }
    LOG.debug("rid={} backend={} error", requestId, route.backend().name(), cause);
    fail(ExchangeFailures.ioFailure(route.backend().name(), cause));
  }

  private void onIdleCheck() {
    if (state != State.RELAYING && state != State.READING_ERROR) {
      return;
    }
    long idleNanos = timeouts.idle().toNanos();
    long quiet = System.nanoTime() - lastBackendReadNanos;
    if (quiet >= idleNanos && !readPending) {
      onTimeout("idle");
    } else {
      // still flowing (or paused by a slow client, which is not the backend's fault)
      responseTimer = loop.schedule(this::onIdleCheck, Math.max(idleNanos - quiet, idleNanos / 4),
          TimeUnit.NANOSECONDS);
    }
  }

  private void onTimeout(String which) {
    if (state == State.DONE) {
      return;
    }
    fail(GatewayError.backendTimeout(route.backend().name(), which));
  }

  /** The client closed its connection: end the backend call now and free everything. */
  public void cancel() {
    if (state == State.DONE) {
      return;
    }
    log.outcome = "client_closed";
    if (log.status == 0) {
      log.status = 499;
    }
    releaseBackend(false);
    finish();
  }

  /** A failure at any point: one error response before the commit, a terminated stream after it. */
  private void fail(GatewayError error) {
    boolean committed = state == State.RELAYING;
    releaseBackend(false);
    if (!committed) {
      respondError(error);
      return;
    }
    log.outcome = "stream_error";
    log.errorCode = error.code();
    LOG.warn("rid={} backend={} failed after the response started: {}", requestId, route.backend().name(),
        error.message());
    if (eventStream) {
      client.write(ResponseHeads.sseError(error, client.alloc()));
      client.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
    } else {
      client.flush();
      client.close(); // truncated body: the client sees a broken response, never a clean end
    }
    finish();
  }

  private void respondError(GatewayError error) {
    ClientResponses.writeError(client, error, requestId, keepAlive, log);
    finish();
  }

  private void complete() {
    releaseBackend(true);
    if (!keepAlive) {
      client.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
    finish();
  }

  /**
   * Detaches from the backend channel and returns it to its pool (exactly once per acquire). It is
   * reused only after a complete, keep-alive response; otherwise it is closed first.
   */
  private void releaseBackend(boolean reusable) {
    Channel ch = backend;
    if (ch == null) {
      return;
    }
    backend = null;
    readPending = false;
    if (ch.pipeline().get(BackendRelayHandler.NAME) != null) {
      ch.pipeline().remove(BackendRelayHandler.NAME);
    }
    if (!reusable || !backendKeepAlive) {
      ch.close();
    }
    pool.release(ch);
  }

  private void finish() {
    if (state == State.DONE) {
      return;
    }
    state = State.DONE;
    cancel(totalTimer);
    cancel(responseTimer);
    if (errorReader != null) {
      errorReader.release();
    }
    body.release();
    onDone.accept(this);
  }

  private static void cancel(ScheduledFuture<?> f) {
    if (f != null) {
      f.cancel(false);
    }
  }

  public RequestLog log() {
    return log;
  }
}
