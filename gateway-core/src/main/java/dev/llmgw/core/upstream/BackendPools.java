package dev.llmgw.core.upstream;

import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.http.WriteCoalescer;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.pool.ChannelPool;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;

/**
 * Keep-alive connection pools to the backends: one {@link LoopChannelPool} per (backend, event
 * loop), so a backend connection always lives on the event loop of the client it serves and the
 * whole exchange runs on one thread.
 *
 * <p>Every backend channel ends with a {@link BackendRelayHandler} for its whole life: it relays to
 * the exchange holding the channel and pauses reading while that exchange's client cannot take more.
 * Names resolve through Netty's non-blocking DNS resolver (never a blocking
 * lookup on an event loop). TLS is used for {@code https} base URLs, with SNI and hostname
 * verification.
 *
 * <p>An in-process backend ({@link BackendSpec#isInProcess()}) is reached over an in-VM channel
 * ({@code LocalChannel}) on the same event loop, at the address its model is served at: no codec (the
 * channel carries {@code HttpObject}s), and a {@link dev.llmgw.core.upstream.inprocess.Credit.Returner}
 * before the relay, which tells the model's side how much of its answer was taken (flow control).
 */
public final class BackendPools implements ConnectionSource, AutoCloseable {

  private static final int MAX_PENDING_ACQUIRES = 4096;
  private static final int MAX_RESPONSE_HEADER_BYTES = 32 * 1024;
  private static final int MAX_RESPONSE_LINE_BYTES = 8 * 1024;

  private final Transport transport;
  /** Where an in-process backend's model is served (a {@code LocalAddress}). */
  private final java.util.function.Function<BackendSpec, java.net.SocketAddress> inProcess;
  private final DnsAddressResolverGroup resolver;
  private final SslContext ssl;
  /** The pools of each backend by name, for the settings they were made with. */
  private final Map<String, Entry> pools = new ConcurrentHashMap<>();
  /** Pools for settings a reload replaced, still asked for by requests in flight; closed at the next reload. */
  private final Map<BackendSpec, Entry> stale = new ConcurrentHashMap<>();
  /** The settings of the running config, by backend name (set by {@link #retain}; empty before any). */
  private volatile Map<String, BackendSpec> live = Map.of();

  private record Entry(BackendSpec spec, Map<EventLoop, LoopChannelPool> byLoop) {
    Entry(BackendSpec spec) {
      this(spec, new ConcurrentHashMap<>());
    }

    /** At shutdown, from a non-loop thread, before the event loops stop: waits until each loop has closed its idle ones. */
    void closeNow() {
      byLoop.values().forEach(LoopChannelPool::close);
    }

    /** Never blocks (it may run on an event loop): idle connections close now, busy ones when released. */
    void close() {
      byLoop.values().forEach(LoopChannelPool::closeAsync);
    }
  }

  public BackendPools(Transport transport) {
    this(transport, b -> new io.netty.channel.local.LocalAddress("llmgw-inprocess-" + b.name() + "-not-loaded"));
  }

  /** @param inProcess where each in-process backend's model is served ({@code InProcessBackends#address}) */
  public BackendPools(Transport transport,
      java.util.function.Function<BackendSpec, java.net.SocketAddress> inProcess) {
    this.transport = transport;
    this.inProcess = inProcess;
    this.resolver = new DnsAddressResolverGroup(
        new DnsNameResolverBuilder().datagramChannelType(transport.datagramChannel()));
    try {
      this.ssl = SslContextBuilder.forClient().build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build the TLS client context", e);
    }
  }

  /** The pool for a backend on the given event loop, created on first use. */
  @Override
  public ChannelPool pool(BackendSpec backend, EventLoop loop) {
    Entry e = pools.get(backend.name());
    if (e == null || !e.spec().equals(backend)) {
      BackendSpec current = live.get(backend.name());
      if (current != null && !current.equals(backend)) {
        // a request still in flight from before a reload: a pool of its own, closed at the next reload
        e = stale.computeIfAbsent(backend, Entry::new);
      } else {
        e = pools.compute(backend.name(), (n, old) -> {
          if (old != null && old.spec().equals(backend)) {
            return old;
          }
          if (old != null) {
            old.close();
          }
          return new Entry(backend);
        });
      }
    }
    return e.byLoop().computeIfAbsent(loop, l -> newPool(backend, l));
  }

  /**
   * A reload's backends: the pools of a backend whose settings changed, or that is gone, are closed
   * (their idle connections at once, the busy ones as their requests end), so a reload never leaves
   * connections behind. Requests in flight with the old settings get pools of their own, closed at
   * the next reload.
   */
  public void retain(java.util.Collection<BackendSpec> backends) {
    Map<String, BackendSpec> next = new java.util.HashMap<>();
    backends.forEach(b -> next.put(b.name(), b));
    live = Map.copyOf(next);
    for (Entry e : stale.values()) {
      e.close();
    }
    stale.clear();
    pools.entrySet().removeIf(en -> {
      boolean outdated = !en.getValue().spec().equals(next.get(en.getKey()));
      if (outdated) {
        en.getValue().close();
      }
      return outdated;
    });
  }

  /** Pools open now (tests and metrics): for the live settings and for requests from before a reload. */
  public int openPools() {
    int n = 0;
    for (Entry e : pools.values()) {
      n += e.byLoop().size();
    }
    for (Entry e : stale.values()) {
      n += e.byLoop().size();
    }
    return n;
  }

  private LoopChannelPool newPool(BackendSpec backend, EventLoop loop) {
    if (backend.isInProcess()) {
      return newInProcessPool(backend, loop);
    }
    Bootstrap bootstrap = new Bootstrap()
        .group(loop)
        .channel(transport.socketChannel())
        .resolver(resolver)
        .remoteAddress(InetSocketAddress.createUnresolved(backend.host(), backend.port()))
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
            backend.timeouts().connect().toMillis()))
        .option(ChannelOption.ALLOCATOR, Transport.ALLOCATOR)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_KEEPALIVE, true)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024));
    Consumer<Channel> init = ch -> {
      ChannelPipeline p = ch.pipeline();
      if (backend.tls()) {
        p.addLast("tls", ssl.newHandler(ch.alloc(), backend.host(), backend.port()));
      }
      p.addLast("coalesce", new WriteCoalescer()); // the request's head and a small body: one buffer
      p.addLast("http", new HttpClientCodec(MAX_RESPONSE_LINE_BYTES, MAX_RESPONSE_HEADER_BYTES,
          16 * 1024, true));
      // requests ask for identity; a backend that compresses anyway gets a decompressor on its
      // connection when its first compressed answer arrives (BackendRelayHandler.inflating)
      p.addLast("relay", new BackendRelayHandler(ch)); // last: BackendRelayHandler.of(ch)
    };
    return new LoopChannelPool(loop, bootstrap, init, backend.maxConnections(), MAX_PENDING_ACQUIRES,
        backend.timeouts().connect().toMillis());
  }

  private LoopChannelPool newInProcessPool(BackendSpec backend, EventLoop loop) {
    Bootstrap bootstrap = new Bootstrap()
        .group(loop)
        .channel(io.netty.channel.local.LocalChannel.class)
        .remoteAddress(inProcess.apply(backend))
        .option(ChannelOption.ALLOCATOR, Transport.ALLOCATOR);
    Consumer<Channel> init = ch -> {
      ch.pipeline().addLast("credits", new dev.llmgw.core.upstream.inprocess.Credit.Returner());
      ch.pipeline().addLast("relay", new BackendRelayHandler(ch)); // last: BackendRelayHandler.of(ch)
    };
    return new LoopChannelPool(loop, bootstrap, init, backend.maxConnections(), MAX_PENDING_ACQUIRES,
        backend.timeouts().connect().toMillis());
  }

  @Override
  public void close() {
    // synchronously, before the event loops stop: each pool closes its idle connections on its loop
    pools.values().forEach(Entry::closeNow);
    pools.clear();
    stale.values().forEach(Entry::closeNow);
    stale.clear();
    resolver.close();
  }
}
