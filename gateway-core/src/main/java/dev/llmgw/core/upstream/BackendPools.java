package dev.llmgw.core.upstream;

import dev.llmgw.core.config.BackendSpec;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.pool.AbstractChannelPoolHandler;
import io.netty.channel.pool.ChannelHealthChecker;
import io.netty.channel.pool.ChannelPool;
import io.netty.channel.pool.FixedChannelPool;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;

/**
 * Keep-alive connection pools to the backends: one {@link FixedChannelPool} per (backend, event
 * loop), so a backend connection always lives on the event loop of the client it serves and the
 * whole exchange runs on one thread.
 *
 * <p>Every backend channel ends with a {@link BackendRelayHandler} for its whole life: it relays to
 * the exchange holding the channel and pauses reading while that exchange's client cannot take more.
 * Names resolve through Netty's non-blocking DNS resolver (never a blocking
 * lookup on an event loop). TLS is used for {@code https} base URLs, with SNI and hostname
 * verification.
 */
public final class BackendPools implements AutoCloseable {

  private static final int MAX_PENDING_ACQUIRES = 4096;
  private static final int MAX_RESPONSE_HEADER_BYTES = 32 * 1024;
  private static final int MAX_RESPONSE_LINE_BYTES = 8 * 1024;

  private final Transport transport;
  private final DnsAddressResolverGroup resolver;
  private final SslContext ssl;
  private final Map<BackendSpec, Map<EventLoop, ChannelPool>> pools = new ConcurrentHashMap<>();

  public BackendPools(Transport transport) {
    this.transport = transport;
    this.resolver = new DnsAddressResolverGroup(
        new DnsNameResolverBuilder().datagramChannelType(transport.datagramChannel()));
    try {
      this.ssl = SslContextBuilder.forClient().build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build the TLS client context", e);
    }
  }

  /** The pool for a backend on the given event loop, created on first use. */
  public ChannelPool pool(BackendSpec backend, EventLoop loop) {
    return pools.computeIfAbsent(backend, b -> new ConcurrentHashMap<>())
        .computeIfAbsent(loop, l -> newPool(backend, l));
  }

  private ChannelPool newPool(BackendSpec backend, EventLoop loop) {
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
    AbstractChannelPoolHandler handler = new AbstractChannelPoolHandler() {
      @Override
      public void channelCreated(Channel ch) {
        ChannelPipeline p = ch.pipeline();
        if (backend.tls()) {
          p.addLast("tls", ssl.newHandler(ch.alloc(), backend.host(), backend.port()));
        }
        p.addLast("http", new HttpClientCodec(MAX_RESPONSE_LINE_BYTES, MAX_RESPONSE_HEADER_BYTES,
            16 * 1024, true));
        // requests ask for identity; a backend that compresses anyway (gzip, deflate, br, zstd) is
        // decoded here, chunk by chunk, so the client gets what the headers say and usage is metered
        p.addLast("inflate", new io.netty.handler.codec.http.HttpContentDecompressor(0));
        p.addLast("relay", new BackendRelayHandler(ch)); // last: BackendRelayHandler.of(ch)
      }
    };
    long acquireTimeoutMillis = backend.timeouts().connect().toMillis();
    return new FixedChannelPool(bootstrap, handler, ChannelHealthChecker.ACTIVE,
        FixedChannelPool.AcquireTimeoutAction.FAIL, acquireTimeoutMillis, backend.maxConnections(),
        MAX_PENDING_ACQUIRES, true, true);
  }

  @Override
  public void close() {
    pools.values().forEach(m -> m.values().forEach(ChannelPool::close));
    pools.clear();
    resolver.close();
  }
}
