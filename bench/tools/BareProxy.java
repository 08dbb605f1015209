import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.usage.UsageTap;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The floor under a Netty HTTP/1.1 reverse proxy on the gateway's own stack (Netty 4.2, io_uring, the
 * pooled allocator): the server codec with an aggregated request body (the gateway reads the body to
 * route), one keep-alive backend connection per client connection through the client codec, the
 * response relayed as decoded. No routing, metering, records, metrics, access log or limits: what
 * bench/floor.sh compares the gateway and nginx with. A benchmark tool, not a product: a failed
 * backend connection closes the client's.
 *
 * <p>{@code -Dbare.features=parse,usage,meters} adds the gateway's own code for one feature at a time
 * on this bare path, to price it without the gateway's plumbing: {@code parse} the request
 * ({@link RequestParser#parse}, as the gateway does for routing), {@code usage} the response's usage read
 * ({@link UsageTap#forJson}, on a duplicate of the body), {@code meters} the per-request meter updates
 * of a plain request (a counter, four timers with the gateway's SLO buckets, a distribution summary,
 * two token counters, on a Prometheus registry).
 *
 * <p>Usage: {@code java -cp gateway-server.jar:. BareProxy PORT BACKEND_HOST BACKEND_PORT}
 */
public final class BareProxy {
  static final Set<String> FEATURES = Set.of(System.getProperty("bare.features", "").split(","));
  static final boolean PARSE = FEATURES.contains("parse");
  static final boolean USAGE = FEATURES.contains("usage");
  static final boolean METERS = FEATURES.contains("meters");
  static final Duration[] SLOS = {Duration.ofMillis(5), Duration.ofMillis(25), Duration.ofMillis(100),
      Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2),
      Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60),
      Duration.ofSeconds(120)};
  static final PrometheusMeterRegistry REGISTRY = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  static final Counter REQUESTS = Counter.builder("bare.requests").tags("tier", "t", "outcome", "ok")
      .register(REGISTRY);
  static final Timer[] TIMERS = {timer("bare.duration"), timer("bare.ttft"), timer("bare.overhead"),
      timer("bare.attempt")};
  static final DistributionSummary ATTEMPTS = DistributionSummary.builder("bare.attempts")
      .serviceLevelObjectives(1, 2, 3, 4, 6, 10).register(REGISTRY);
  static final Counter IN = Counter.builder("bare.tokens").tags("type", "input").register(REGISTRY);
  static final Counter OUT = Counter.builder("bare.tokens").tags("type", "output").register(REGISTRY);
  static long sink;

  static Timer timer(String name) {
    return Timer.builder(name).tags("tier", "t", "backend", "b").serviceLevelObjectives(SLOS)
        .register(REGISTRY);
  }

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
    System.out.println("bare proxy on " + port + " with features " + FEATURES);
    Thread.currentThread().join();
  }

  static final class Front extends SimpleChannelInboundHandler<FullHttpRequest> {
    final String host;
    final int port;
    Channel back;
    long started;

    Front(String host, int port) {
      super(false);
      this.host = host;
      this.port = port;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      started = System.nanoTime();
      if (PARSE) {
        sink += RequestParser.parse(Endpoint.CHAT_COMPLETIONS,
            new ByteBufInputStream(req.content().duplicate())).hashCode();
      }
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
                  if (msg instanceof LastHttpContent last) {
                    if (USAGE) {
                      readUsage(last.content());
                    }
                    if (METERS) {
                      record(System.nanoTime() - started);
                    }
                    client.writeAndFlush(msg, client.voidPromise());
                  } else {
                    if (USAGE && msg instanceof HttpContent c) {
                      readUsage(c.content());
                    }
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

    /** The gateway's usage read of a whole JSON body, on a duplicate (what it forwards is released). */
    private static void readUsage(ByteBuf body) {
      if (!body.isReadable()) {
        return;
      }
      UsageTap tap = UsageTap.forJson();
      List<ByteBuf> out = new ArrayList<>(1);
      tap.onLastChunk(body.retainedDuplicate(), out);
      out.forEach(ReferenceCountUtil::release);
      sink += tap.usage() == null ? 0 : tap.usage().hashCode();
    }

    private static void record(long nanos) {
      REQUESTS.increment();
      for (Timer t : TIMERS) {
        t.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
      }
      ATTEMPTS.record(1);
      IN.increment(120);
      OUT.increment(30);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (back != null) {
        back.close();
      }
    }
  }
}
