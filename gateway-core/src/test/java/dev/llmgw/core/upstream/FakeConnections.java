package dev.llmgw.core.upstream;

import dev.llmgw.core.config.BackendSpec;
import io.netty.channel.Channel;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.pool.ChannelPool;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link ConnectionSource} for unit tests: one {@link Pool} per backend name, handing out backend
 * {@link EmbeddedChannel}s whose only (and so last) handler is a real {@link BackendRelayHandler}, as
 * {@link BackendPools} sets them up, minus the HTTP codec: the test writes {@code HttpObject}s in with
 * {@code writeInbound} and reads the upstream request ({@code FullHttpRequest}, to be released) with
 * {@code readOutbound}. Like {@code LoopChannelPool}, a channel released while open goes back to the
 * idle queue and is handed out again (last in, first out).
 *
 * <p>Lives in this package for {@code BackendRelayHandler}'s package-private constructor. Confined to
 * the test thread (every {@code EmbeddedChannel} runs its tasks there).
 */
public final class FakeConnections implements ConnectionSource {
  private final Map<String, Pool> pools = new LinkedHashMap<>();

  @Override
  public ChannelPool pool(BackendSpec backend, EventLoop loop) {
    return pool(backend.name());
  }

  /** The pool of the backend named {@code backend} (made on first use). */
  public Pool pool(String backend) {
    return pools.computeIfAbsent(backend, Pool::new);
  }

  /** Every channel any pool handed out. */
  public List<EmbeddedChannel> allChannels() {
    List<EmbeddedChannel> all = new ArrayList<>();
    pools.values().forEach(p -> all.addAll(p.created));
    return all;
  }

  /** A new backend connection, as the pool's channel initializer would make it. */
  public static EmbeddedChannel newConnection() {
    EmbeddedChannel ch = new EmbeddedChannel(DefaultChannelId.newInstance());
    ch.pipeline().addLast("relay", new BackendRelayHandler(ch));
    return ch;
  }

  /** A connection that already carried an exchange and sits idle in its pool (e.g. one the backend closed since). */
  public static EmbeddedChannel usedConnection() {
    EmbeddedChannel ch = newConnection();
    BackendRelayHandler relay = BackendRelayHandler.of(ch);
    relay.attach(new BackendRelayHandler.BackendListener() {
      @Override
      public void onBackendMessage(Object msg) {
        io.netty.util.ReferenceCountUtil.release(msg);
      }

      @Override
      public void onBackendReadComplete() {}

      @Override
      public void onBackendClosed() {}

      @Override
      public void onBackendError(Throwable cause) {}
    });
    relay.detach();
    return ch;
  }

  /** The connections of one backend. */
  public static final class Pool implements ChannelPool {
    private final String backend;
    private final Deque<EmbeddedChannel> idle = new ArrayDeque<>();
    private final List<EmbeddedChannel> created = new ArrayList<>();
    private final List<Channel> acquired = new ArrayList<>();
    private final List<Channel> released = new ArrayList<>();
    private Throwable acquireFailure;

    Pool(String backend) {
      this.backend = backend;
    }

    /** Puts {@code ch} in the idle queue, to be handed out next. */
    public Pool idle(EmbeddedChannel ch) {
      created.add(ch);
      idle.push(ch);
      return this;
    }

    /** Every later acquire fails with {@code cause} (null: they succeed again). */
    public Pool failAcquires(Throwable cause) {
      this.acquireFailure = cause;
      return this;
    }

    /** Channels handed out, in order (one per successful acquire). */
    public List<Channel> acquired() {
      return acquired;
    }

    public int acquires() {
      return acquired.size();
    }

    /** Channels given back, in order. */
    public List<Channel> released() {
      return released;
    }

    /** The channel handed out last, or null. */
    public EmbeddedChannel last() {
      return acquired.isEmpty() ? null : (EmbeddedChannel) acquired.get(acquired.size() - 1);
    }

    /** Acquired as often as released: nothing of this pool is still held. */
    public boolean balanced() {
      return acquired.size() == released.size();
    }

    @Override
    public Future<Channel> acquire() {
      return acquire(io.netty.util.concurrent.ImmediateEventExecutor.INSTANCE.newPromise());
    }

    @Override
    public Future<Channel> acquire(Promise<Channel> promise) {
      if (acquireFailure != null) {
        return promise.setFailure(acquireFailure);
      }
      EmbeddedChannel ch = idle.poll();
      if (ch == null) {
        ch = newConnection();
        created.add(ch);
      }
      acquired.add(ch);
      return promise.setSuccess(ch);
    }

    @Override
    public Future<Void> release(Channel channel) {
      return release(channel, io.netty.util.concurrent.ImmediateEventExecutor.INSTANCE.newPromise());
    }

    @Override
    public Future<Void> release(Channel channel, Promise<Void> promise) {
      released.add(channel);
      if (channel.isOpen()) {
        idle.push((EmbeddedChannel) channel);
      }
      return promise.setSuccess(null);
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
      return "FakeConnections.Pool(" + backend + ")";
    }
  }
}
