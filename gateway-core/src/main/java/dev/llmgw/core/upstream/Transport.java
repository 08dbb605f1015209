package dev.llmgw.core.upstream;

import io.netty.channel.Channel;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The I/O transport: native epoll where available, NIO elsewhere. Client and backend channels use
 * the same one so that a backend connection can live on its client's event loop (no cross-thread
 * hand-off on the hot path).
 */
public record Transport(
    String name,
    IoHandlerFactory ioHandlerFactory,
    Class<? extends ServerChannel> serverChannel,
    Class<? extends Channel> socketChannel,
    Class<? extends DatagramChannel> datagramChannel) {

  public static Transport nio() {
    return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class,
        NioSocketChannel.class, NioDatagramChannel.class);
  }

  /** epoll when the native library loads (Linux), otherwise NIO. {@code -Dgateway.transport=nio} forces NIO. */
  public static Transport best() {
    if (!"nio".equals(System.getProperty("gateway.transport")) && isEpollAvailable()) {
      return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
          EpollSocketChannel.class, EpollDatagramChannel.class);
    }
    return nio();
  }

  private static boolean isEpollAvailable() {
    try {
      return Epoll.isAvailable();
    } catch (Throwable t) { // classes present but no native library for this platform
      return false;
    }
  }
}
