import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.*;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.uring.*;
import io.netty.handler.codec.http.*;
import io.netty.util.ReferenceCountUtil;

/**
 * The floor under a Netty HTTP/1.1 reverse proxy on the gateway's own stack (Netty 4.2, io_uring, the
 * pooled allocator): the server codec with an aggregated request body (the gateway reads the body to
 * route), one keep-alive backend connection per client connection through the client codec, the
 * response relayed as decoded. No routing, metering, records, metrics, access log or limits: what
 * bench/floor.sh compares the gateway and nginx with. A benchmark tool, not a product: a failed
 * backend connection closes the client's.
 *
 * <p>Usage: {@code java -cp gateway-server.jar:. BareProxy PORT BACKEND_HOST BACKEND_PORT}
 */
public final class BareProxy {
  public static void main(String[] a) throws Exception {
    int port = Integer.parseInt(a[0]);
    String bhost = a[1];
    int bport = Integer.parseInt(a[2]);
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, IoUringIoHandler.newFactory());
    new ServerBootstrap().group(group).channel(IoUringServerSocketChannel.class)
        .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                new Front(bhost, bport));
          }
        }).bind("127.0.0.1", port).sync();
    System.out.println("bare proxy on " + port);
    Thread.currentThread().join();
  }

  static final class Front extends SimpleChannelInboundHandler<FullHttpRequest> {
    final String host;
    final int port;
    Channel back;

    Front(String host, int port) {
      super(false);
      this.host = host;
      this.port = port;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      req.headers().set(HttpHeaderNames.HOST, host + ":" + port);
      if (back != null && back.isActive()) {
        back.writeAndFlush(req, back.voidPromise());
        return;
      }
      Channel client = ctx.channel();
      client.config().setAutoRead(false);
      new Bootstrap().group(ctx.channel().eventLoop()).channel(IoUringSocketChannel.class)
          .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
          .option(ChannelOption.TCP_NODELAY, true)
          .handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(new HttpClientCodec(), new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext bctx, Object msg) {
                  if (msg instanceof LastHttpContent) {
                    client.writeAndFlush(msg, client.voidPromise());
                  } else {
                    client.write(msg, client.voidPromise());
                  }
                }

                @Override
                public void channelInactive(ChannelHandlerContext bctx) {
                  client.close();
                }
              });
            }
          }).connect(host, port).addListener((ChannelFutureListener) f -> {
            client.config().setAutoRead(true);
            if (!f.isSuccess()) {
              ReferenceCountUtil.release(req);
              client.close();
              return;
            }
            back = f.channel();
            back.writeAndFlush(req, back.voidPromise());
          });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (back != null) {
        back.close();
      }
    }
  }
}
