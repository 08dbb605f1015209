package dev.llmgw.bench.mock;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A fast mock of an OpenAI-compatible backend, for load tests only (issue #7, {@code bench/run.sh}).
 *
 * <ul>
 *   <li>{@code POST .../chat/completions} (and {@code .../completions}) without {@code "stream":true}:
 *       a fixed ~1 KB {@code chat.completion} body with {@code usage}, {@code Content-Length}, keep-alive.
 *   <li>with {@code "stream":true}: {@value #STREAM_CHUNKS} SSE {@code chat.completion.chunk} events (the
 *       last one carrying {@code usage}) and {@code data: [DONE]}, chunked; the head and the first event
 *       go out at once, each later event {@code CHUNK_DELAY_MS} after the previous one (0: all at once).
 *   <li>{@code GET /healthz}: 200 {@code ok}.
 * </ul>
 *
 * <p>Every body is precomputed; a request costs one HTTP decode, one byte scan for {@code "stream"}
 * and one write. Nothing is logged per request.
 *
 * <pre>
 *   java -jar mock-backend.jar [PORT]      env: MOCK_PORT (8091), MOCK_HOST (127.0.0.1),
 *                                          CHUNK_DELAY_MS (0), MOCK_THREADS (1)
 * </pre>
 */
public final class MockBackend {
  static final int STREAM_CHUNKS = 20;
  private static final AsciiString EVENT_STREAM = AsciiString.cached("text/event-stream");
  private static final AsciiString NO_CACHE = AsciiString.cached("no-cache");
  private static final AsciiString SERVER = AsciiString.cached("mock-openai");
  private static final AsciiString PROCESSING_MS = AsciiString.cached("openai-processing-ms");
  private static final AsciiString ONE = AsciiString.cached("1");

  static final byte[] COMPLETION = completion().getBytes(StandardCharsets.UTF_8);
  static final byte[][] STREAM_EVENTS = streamEvents();
  private static final ByteBuf COMPLETION_BUF =
      Unpooled.unreleasableBuffer(Unpooled.directBuffer(COMPLETION.length).writeBytes(COMPLETION)).asReadOnly();
  private static final ByteBuf[] STREAM_BUFS = new ByteBuf[STREAM_EVENTS.length];
  private static final ByteBuf OK = Unpooled.unreleasableBuffer(
      Unpooled.directBuffer(2).writeBytes("ok".getBytes(StandardCharsets.US_ASCII))).asReadOnly();

  static {
    for (int i = 0; i < STREAM_EVENTS.length; i++) {
      STREAM_BUFS[i] = Unpooled.unreleasableBuffer(
          Unpooled.directBuffer(STREAM_EVENTS[i].length).writeBytes(STREAM_EVENTS[i])).asReadOnly();
    }
  }

  private MockBackend() {}

  public static void main(String[] args) throws InterruptedException {
    String host = env("MOCK_HOST", "127.0.0.1");
    int port = Integer.parseInt(args.length > 0 ? args[0] : env("MOCK_PORT", "8091"));
    long chunkDelayMs = Long.parseLong(env("CHUNK_DELAY_MS", "0"));
    int threads = Integer.parseInt(env("MOCK_THREADS", "1"));

    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerChannel> serverChannel =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, io);
    ChannelHandler handler = new Handler(chunkDelayMs);
    Channel ch = new ServerBootstrap()
        .group(group)
        .channel(serverChannel)
        .option(ChannelOption.SO_BACKLOG, 4096)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel c) {
            c.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(4 * 1024 * 1024), handler);
          }
        })
        .bind(host, port).sync().channel();
    System.out.printf("mock-backend listening on http://%s:%d (%s, %d thread(s), chunk delay %d ms, "
            + "completion %d bytes, %d stream events)%n", host, port, epoll ? "epoll" : "nio", threads,
        chunkDelayMs, COMPLETION.length, STREAM_EVENTS.length);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      ch.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }));
    ch.closeFuture().sync();
  }

  private static String env(String name, String dflt) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? dflt : v.trim();
  }

  @ChannelHandler.Sharable
  static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final long chunkDelayMs;

    Handler(long chunkDelayMs) {
      this.chunkDelayMs = chunkDelayMs;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      String uri = req.uri();
      if (HttpMethod.POST.equals(req.method()) && uri.endsWith("/completions")) {
        if (streamRequested(req.content())) {
          stream(ctx, keepAlive);
        } else {
          full(ctx, HttpResponseStatus.OK, HttpHeaderValues.APPLICATION_JSON, COMPLETION_BUF, keepAlive);
        }
      } else if (HttpMethod.GET.equals(req.method()) && uri.equals("/healthz")) {
        full(ctx, HttpResponseStatus.OK, HttpHeaderValues.TEXT_PLAIN, OK, keepAlive);
      } else {
        full(ctx, HttpResponseStatus.NOT_FOUND, HttpHeaderValues.TEXT_PLAIN, OK, keepAlive);
      }
    }

    private static void full(ChannelHandlerContext ctx, HttpResponseStatus status, CharSequence type, ByteBuf body,
        boolean keepAlive) {
      FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body.duplicate());
      r.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, type)
          .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
          .set(HttpHeaderNames.SERVER, SERVER)
          .set(PROCESSING_MS, ONE);
      if (!keepAlive) {
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
      } else {
        ctx.writeAndFlush(r, ctx.voidPromise());
      }
    }

    private void stream(ChannelHandlerContext ctx, boolean keepAlive) {
      HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      head.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, EVENT_STREAM)
          .set(HttpHeaderNames.CACHE_CONTROL, NO_CACHE)
          .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
          .set(HttpHeaderNames.SERVER, SERVER);
      if (!keepAlive) {
        head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      }
      ctx.write(head, ctx.voidPromise());
      if (chunkDelayMs <= 0) {
        for (int i = 0; i < STREAM_BUFS.length; i++) {
          ctx.write(new DefaultHttpContent(STREAM_BUFS[i].duplicate()), ctx.voidPromise());
        }
        end(ctx, keepAlive);
        return;
      }
      ctx.writeAndFlush(new DefaultHttpContent(STREAM_BUFS[0].duplicate()), ctx.voidPromise());
      ctx.executor().schedule(() -> next(ctx, 1, keepAlive), chunkDelayMs, TimeUnit.MILLISECONDS);
    }

    private void next(ChannelHandlerContext ctx, int i, boolean keepAlive) {
      if (!ctx.channel().isActive()) {
        return;
      }
      ctx.writeAndFlush(new DefaultHttpContent(STREAM_BUFS[i].duplicate()), ctx.voidPromise());
      if (i + 1 < STREAM_BUFS.length) {
        ctx.executor().schedule(() -> next(ctx, i + 1, keepAlive), chunkDelayMs, TimeUnit.MILLISECONDS);
      } else {
        end(ctx, keepAlive);
      }
    }

    private static void end(ChannelHandlerContext ctx, boolean keepAlive) {
      LastHttpContent last = new DefaultLastHttpContent();
      if (keepAlive) {
        ctx.writeAndFlush(last, ctx.voidPromise());
      } else {
        ctx.writeAndFlush(last).addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** Whether the JSON body has {@code "stream"} followed by {@code : true} (whitespace allowed). */
  static boolean streamRequested(ByteBuf body) {
    int from = body.readerIndex();
    int end = body.writerIndex();
    while (from < end) {
      int q = body.indexOf(from, end, (byte) '"');
      if (q < 0 || q + 8 > end) {
        return false;
      }
      if (body.getByte(q + 1) == 's' && body.getByte(q + 2) == 't' && body.getByte(q + 3) == 'r'
          && body.getByte(q + 4) == 'e' && body.getByte(q + 5) == 'a' && body.getByte(q + 6) == 'm'
          && body.getByte(q + 7) == '"') {
        int i = skipWs(body, q + 8, end);
        if (i < end && body.getByte(i) == ':') {
          i = skipWs(body, i + 1, end);
          return i + 4 <= end && body.getByte(i) == 't' && body.getByte(i + 1) == 'r'
              && body.getByte(i + 2) == 'u' && body.getByte(i + 3) == 'e';
        }
      }
      from = q + 1;
    }
    return false;
  }

  private static int skipWs(ByteBuf b, int i, int end) {
    while (i < end) {
      byte c = b.getByte(i);
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        break;
      }
      i++;
    }
    return i;
  }

  /** A ~1 KB non-streaming chat completion, shaped like OpenAI's, with usage. */
  private static String completion() {
    String content = "Connection pooling keeps a small set of established TCP connections to each backend "
        + "and hands them out to requests, so that the cost of the three-way handshake and, for TLS, of the "
        + "key exchange is paid once per connection rather than once per request. A good pool bounds the "
        + "number of connections per backend, evicts idle ones before the server closes them, checks a "
        + "connection's health cheaply when it is borrowed, and retries a request once on a fresh "
        + "connection when a reused one turns out to be stale. With keep-alive on both sides, a proxy adds "
        + "little more than the cost of parsing and writing each message.";
    return "{\"id\":\"chatcmpl-bench0000000000000000000001\",\"object\":\"chat.completion\","
        + "\"created\":1735689600,\"model\":\"mock-model\",\"system_fingerprint\":\"fp_bench\","
        + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + content
        + "\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
        + "\"usage\":{\"prompt_tokens\":231,\"completion_tokens\":118,\"total_tokens\":349,"
        + "\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}}";
  }

  /** {@value #STREAM_CHUNKS} SSE events (role, content pieces, finish, usage) and {@code [DONE]}. */
  private static byte[][] streamEvents() {
    String prefix = "data: {\"id\":\"chatcmpl-bench0000000000000000000001\",\"object\":\"chat.completion.chunk\","
        + "\"created\":1735689600,\"model\":\"mock-model\",\"system_fingerprint\":\"fp_bench\",\"choices\":";
    String[] words = {"Connection", " pooling", " keeps", " a", " small", " set", " of", " established",
        " connections", " to", " each", " backend", " and", " hands", " them", " out", " to"};
    List<String> events = new ArrayList<>();
    events.add(prefix + "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
        + "\"finish_reason\":null}]}\n\n");
    for (String w : words) {
      events.add(prefix + "[{\"index\":0,\"delta\":{\"content\":\"" + w + "\"},\"logprobs\":null,"
          + "\"finish_reason\":null}]}\n\n");
    }
    events.add(prefix + "[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n");
    events.add(prefix + "[],\"usage\":{\"prompt_tokens\":231,\"completion_tokens\":17,\"total_tokens\":248}}\n\n");
    if (events.size() != STREAM_CHUNKS) {
      throw new AssertionError(events.size());
    }
    events.add("data: [DONE]\n\n");
    byte[][] out = new byte[events.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = events.get(i).getBytes(StandardCharsets.UTF_8);
    }
    return out;
  }
}
