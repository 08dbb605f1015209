package dev.llmgw.core.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.pool.ChannelPool;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The keep-alive connections to one backend from one event loop, with at most {@code maxConnections}
 * of them open or being opened, the rest of the acquires waiting (at most {@code maxPending}, each
 * for at most the acquire timeout). The semantics of Netty's {@code FixedChannelPool} as the gateway
 * used it (last released first out, a released channel that is closed is dropped, a full wait queue
 * or a wait that times out fails the acquire), without what its generality costs per request: it is
 * confined to its event loop — the only thread that acquires and releases, since a backend
 * connection lives on the loop of the client it serves — so it takes no locks, allocates one promise
 * per acquire and nothing per release, and needs no health-check future or listener chain.
 *
 * <p>Calls from another thread are handed to the loop. An idle connection that the backend closes
 * leaves the pool at once (its close future), not at the next acquire.
 */
public final class LoopChannelPool implements ChannelPool {

  /** The pool that handed a channel out; cleared when it is released (a second release is refused). */
  private static final AttributeKey<LoopChannelPool> LEASED = AttributeKey.valueOf(LoopChannelPool.class, "leased");

  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final int maxConnections;
  private final int maxPending;
  private final long acquireTimeoutNanos;
  private final Future<Void> released;
  /** Idle connections, the most recently released last. */
  private final ArrayDeque<Channel> idle = new ArrayDeque<>();
  private final ArrayDeque<Waiter> waiting = new ArrayDeque<>();
  /** Connections handed out or being connected (each counts against {@code maxConnections}). */
  private int busy;
  private boolean closed;

  /**
   * @param bootstrap      how to open a connection (its group must be {@code loop}; its handler is replaced)
   * @param init           sets up a new connection's pipeline
   * @param acquireTimeoutMillis how long an acquire may wait for a connection when all are busy (0 or less: no bound)
   */
  public LoopChannelPool(EventLoop loop, Bootstrap bootstrap, Consumer<Channel> init, int maxConnections,
      int maxPending, long acquireTimeoutMillis) {
    if (maxConnections < 1) {
      throw new IllegalArgumentException("maxConnections must be at least 1: " + maxConnections);
    }
    this.loop = loop;
    this.maxConnections = maxConnections;
    this.maxPending = maxPending;
    this.acquireTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(acquireTimeoutMillis);
    this.released = loop.newSucceededFuture(null);
    if (bootstrap.config().group() != loop) {
      throw new IllegalArgumentException("the bootstrap's group must be the pool's event loop");
    }
    this.bootstrap = bootstrap.clone().handler(new ChannelInitializer<>() {
      @Override
      protected void initChannel(Channel ch) {
        init.accept(ch);
      }
    });
  }

  @Override
  public Future<Channel> acquire() {
    return acquire(loop.newPromise());
  }

  @Override
  public Future<Channel> acquire(Promise<Channel> promise) {
    if (loop.inEventLoop()) {
      acquire0(promise);
    } else {
      RejectedExecutionException stopped = handToLoop(() -> acquire0(promise));
      if (stopped != null) {
        promise.tryFailure(new IllegalStateException("the connection pool is closed (its event loop stopped)", stopped));
      }
    }
    return promise;
  }

  private void acquire0(Promise<Channel> promise) {
    if (closed) {
      promise.tryFailure(new IllegalStateException("the connection pool is closed"));
      return;
    }
    if (hand(promise)) {
      return;
    }
    if (waiting.size() >= maxPending) {
      promise.tryFailure(new IllegalStateException("too many acquires waiting for a connection: " + maxPending));
      return;
    }
    Waiter w = new Waiter(promise);
    waiting.addLast(w);
    if (acquireTimeoutNanos > 0) {
      w.timeout = loop.schedule(w, acquireTimeoutNanos, TimeUnit.NANOSECONDS);
    }
  }

  /** Hands {@code promise} an idle connection or a new one if the bound allows; false when it must wait. */
  private boolean hand(Promise<Channel> promise) {
    Channel ch;
    while ((ch = idle.pollLast()) != null) {
      if (ch.isActive()) {
        busy++;
        ch.attr(LEASED).set(this);
        if (!promise.trySuccess(ch)) {
          release0(ch); // the acquirer gave up meanwhile
        }
        return true;
      }
      ch.close(); // closed while idle and not yet gone from the deque: drop it
    }
    if (busy >= maxConnections) {
      return false;
    }
    busy++;
    ChannelFuture connect = bootstrap.connect();
    if (connect.isDone()) {
      connected(connect, promise);
    } else {
      connect.addListener(f -> connected(connect, promise));
    }
    return true;
  }

  private void connected(ChannelFuture connect, Promise<Channel> promise) {
    Channel ch = connect.channel();
    if (!connect.isSuccess()) {
      busy--;
      promise.tryFailure(connect.cause());
      serveWaiting();
      return;
    }
    ch.closeFuture().addListener(f -> idle.remove(ch)); // on the loop: an idle connection closed by the backend
    ch.attr(LEASED).set(this);
    if (closed) {
      promise.tryFailure(new IllegalStateException("the connection pool is closed"));
      release0(ch); // closes it
    } else if (!promise.trySuccess(ch)) {
      release0(ch); // the acquirer gave up meanwhile
    }
  }

  @Override
  public Future<Void> release(Channel channel) {
    if (loop.inEventLoop()) {
      return release0(channel) ? released : loop.newFailedFuture(notOurs(channel));
    }
    return release(channel, loop.newPromise());
  }

  @Override
  public Future<Void> release(Channel channel, Promise<Void> promise) {
    if (loop.inEventLoop()) {
      if (release0(channel)) {
        promise.trySuccess(null);
      } else {
        promise.tryFailure(notOurs(channel));
      }
    } else {
      RejectedExecutionException stopped = handToLoop(() -> release(channel, promise));
      if (stopped != null) {
        channel.close(); // the loop stopped: so did the connection
        promise.tryFailure(stopped);
      }
    }
    return promise;
  }

  private boolean release0(Channel ch) {
    if (ch.attr(LEASED).getAndSet(null) != this) {
      return false;
    }
    busy--;
    if (closed || !ch.isActive()) {
      ch.close();
    } else {
      idle.addLast(ch);
    }
    serveWaiting();
    return true;
  }

  private static IllegalArgumentException notOurs(Channel ch) {
    return new IllegalArgumentException("channel " + ch + " was not acquired from this pool, or was released twice");
  }

  private void serveWaiting() {
    Waiter w;
    while ((w = waiting.peekFirst()) != null) {
      if (w.promise.isDone()) { // the acquirer cancelled it
        waiting.pollFirst().cancelTimeout();
        continue;
      }
      if (closed || !hand(w.promise)) {
        return;
      }
      waiting.pollFirst().cancelTimeout();
    }
  }

  /** Connections handed out or being connected (tests). */
  public int busy() {
    return busy;
  }

  /** Idle connections kept (tests). */
  public int idle() {
    return idle.size();
  }

  /** Closes the idle connections now and the busy ones when released; waiting acquires fail. Never blocks. */
  public Future<Void> closeAsync() {
    Promise<Void> done = loop.newPromise();
    if (loop.inEventLoop()) {
      close0(done);
    } else {
      RejectedExecutionException stopped = handToLoop(() -> close0(done));
      if (stopped != null) {
        done.tryFailure(stopped); // the loop stopped, and its connections with it
      }
    }
    return done;
  }

  /** Runs {@code task} on the pool's loop from another thread; the refusal when the loop no longer takes tasks, else null. */
  private RejectedExecutionException handToLoop(Runnable task) {
    try {
      loop.execute(task);
      return null;
    } catch (RejectedExecutionException e) {
      return e;
    }
  }

  private void close0(Promise<Void> done) {
    closed = true;
    Waiter w;
    while ((w = waiting.pollFirst()) != null) {
      w.cancelTimeout();
      w.promise.tryFailure(new IllegalStateException("the connection pool is closed"));
    }
    Channel ch;
    while ((ch = idle.pollFirst()) != null) {
      ch.close();
    }
    done.trySuccess(null);
  }

  /** As {@link #closeAsync()}, waiting (up to 5 s) for it to have run when called off the loop. */
  @Override
  public void close() {
    Future<Void> f = closeAsync();
    if (!loop.inEventLoop() && !loop.isShuttingDown()) {
      f.awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
  }

  private final class Waiter implements Runnable {
    final Promise<Channel> promise;
    ScheduledFuture<?> timeout;

    Waiter(Promise<Channel> promise) {
      this.promise = promise;
    }

    void cancelTimeout() {
      if (timeout != null) {
        timeout.cancel(false);
      }
    }

    @Override
    public void run() { // the acquire timeout
      if (waiting.remove(this)) {
        promise.tryFailure(new TimeoutException(
            "no connection became free within " + TimeUnit.NANOSECONDS.toMillis(acquireTimeoutNanos) + " ms"));
      }
    }
  }
}
