package dev.llmgw.core.upstream;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The I/O transport: native io_uring or epoll where available, NIO elsewhere. Client and backend channels use
 * the same one so that a backend connection can live on its client's event loop (no cross-thread
 * hand-off on the hot path). Either one's event loops also host in-VM channels (the connections to
 * in-process backends, {@link LocalCapableIoHandler}).
 */
public record Transport(
    String name,
    IoHandlerFactory ioHandlerFactory,
    Class<? extends ServerChannel> serverChannel,
    Class<? extends Channel> socketChannel,
    Class<? extends DatagramChannel> datagramChannel) {

  /**
   * The buffer allocator of every gateway channel, client and backend side: Netty's pooled
   * allocator with its per-thread caches. Netty 4.2's default (the adaptive allocator, built for many
   * threads) cost more on the request path here: same-machine A/B, both gateways up at once and
   * alternated, four rounds — fixed-rate p99 lower in 4 of 4 (e.g. 3.5 → 1.5 ms, 4.0 → 1.9 ms),
   * user CPU per request lower in 7 of 8 runs (docs/benchmarks.md).
   */
  public static final ByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;

  public static Transport nio() {
    return new Transport("nio", LocalCapableIoHandler.factory(NioIoHandler.newFactory()), NioServerSocketChannel.class,
        NioSocketChannel.class, NioDatagramChannel.class);
  }

  /**
   * io_uring where the kernel allows it (Linux 5.14+, and not refused by a seccomp profile such as
   * Docker's default), else epoll, else NIO. {@code -Dgateway.transport=epoll} or {@code nio} picks one.
   *
   * <p>io_uring submits a loop iteration's reads and writes together instead of one system call each:
   * same-machine A/B against epoll ({@code OPTS_B=-Dgateway.transport=io_uring bench/ab.sh}, four rounds,
   * docs/benchmarks.md) — closed-loop req/s 1.06× (higher in 4/4 rounds), system CPU per request 0.82×
   * and user 0.93× (4/4); per stream 0.91× of the CPU (system 0.76×, user 1.12×); fixed-rate p99 equal.
   */
  public static Transport best() {
    String wanted = System.getProperty("gateway.transport", "");
    if (!"nio".equals(wanted) && !"epoll".equals(wanted) && isIoUringAvailable()) {
      return new Transport("io_uring", LocalCapableIoHandler.factory(IoUringIoHandler.newFactory()),
          IoUringServerSocketChannel.class, IoUringSocketChannel.class, IoUringDatagramChannel.class);
    }
    if (!"nio".equals(wanted) && isEpollAvailable()) {
      return new Transport("epoll", LocalCapableIoHandler.factory(EpollIoHandler.newFactory()), EpollServerSocketChannel.class,
          EpollSocketChannel.class, EpollDatagramChannel.class);
    }
    return nio();
  }

  private static boolean isIoUringAvailable() {
    try {
      return IoUring.isAvailable();
    } catch (Throwable t) { // classes present but no native library, or the kernel refuses io_uring
      return false;
    }
  }

  private static boolean isEpollAvailable() {
    try {
      return Epoll.isAvailable();
    } catch (Throwable t) { // classes present but no native library for this platform
      return false;
    }
  }
}
