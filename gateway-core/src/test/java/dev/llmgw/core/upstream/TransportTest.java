package dev.llmgw.core.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The gateway's event loops host in-VM channels as well as sockets (LocalCapableIoHandler). */
class TransportTest {

  private static Transport transport(String name) {
    return name.equals("nio") ? Transport.nio() : Transport.best();
  }

  @ParameterizedTest
  @ValueSource(strings = {"nio", "best"})
  void inVmChannelsRunOnTheSameEventLoopsAsSockets(String name) throws Exception {
    Transport t = transport(name);
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, t.ioHandlerFactory());
    try {
      LocalAddress address = new LocalAddress("transport-test-" + name);
      CompletableFuture<Thread> serverThread = new CompletableFuture<>();
      Channel server = new ServerBootstrap().group(group).channel(LocalServerChannel.class)
          .childHandler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
              serverThread.complete(Thread.currentThread());
              ctx.writeAndFlush(msg); // echo: the buffer passes back to the client, which releases it
            }
          }).bind(address).sync().channel();
      EventLoop loop = group.next();
      CompletableFuture<String> echoed = new CompletableFuture<>();
      CompletableFuture<Boolean> onClientLoop = new CompletableFuture<>();
      Channel client = new Bootstrap().group(loop).channel(LocalChannel.class)
          .handler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
              onClientLoop.complete(loop.inEventLoop());
              echoed.complete(((ByteBuf) msg).toString(StandardCharsets.US_ASCII));
              ReferenceCountUtil.release(msg);
            }
          }).connect(address).sync().channel();
      client.writeAndFlush(Unpooled.copiedBuffer("ping", StandardCharsets.US_ASCII)).sync();
      assertThat(echoed.get(5, TimeUnit.SECONDS)).isEqualTo("ping");
      assertThat(onClientLoop.get()).as("the client side reads on its own event loop").isTrue();
      assertThat(serverThread.get().getName()).isNotEmpty();
      client.close().sync();
      server.close().sync();

      // sockets still work on the same loops
      Channel tcpServer = new ServerBootstrap().group(group).channel(t.serverChannel())
          .childHandler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
              ctx.writeAndFlush(msg);
            }
          }).bind("127.0.0.1", 0).sync().channel();
      CompletableFuture<String> tcpEcho = new CompletableFuture<>();
      Channel tcp = new Bootstrap().group(loop).channel(t.socketChannel())
          .handler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
              tcpEcho.complete(((ByteBuf) msg).toString(StandardCharsets.US_ASCII));
              ReferenceCountUtil.release(msg);
            }
          }).connect(tcpServer.localAddress()).sync().channel();
      assertThat(((InetSocketAddress) tcpServer.localAddress()).getPort()).isPositive();
      tcp.writeAndFlush(Unpooled.copiedBuffer("pong", StandardCharsets.US_ASCII)).sync();
      assertThat(tcpEcho.get(5, TimeUnit.SECONDS)).isEqualTo("pong");
      tcp.close().sync();
      tcpServer.close().sync();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }
}
