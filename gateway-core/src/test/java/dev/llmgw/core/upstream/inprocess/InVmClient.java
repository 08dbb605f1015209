package dev.llmgw.core.upstream.inprocess;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The gateway side of an in-VM connection, for tests: sends requests as the gateway does (a
 * {@code FullHttpRequest} object), records what comes back (releasing it) and credits chunks back
 * unless told not to.
 */
final class InVmClient implements AutoCloseable {
  final Channel channel;
  final List<Object> received = new CopyOnWriteArrayList<>();
  volatile CompletableFuture<Answer> answer = new CompletableFuture<>();
  private final StringBuilder body = new StringBuilder();
  private HttpResponse head;
  private int chunks;

  /** A whole answer: the head, the body's text, and how many content messages it came in. */
  record Answer(HttpResponse head, String body, int chunks) {
    int status() {
      return head.status().code();
    }
  }

  InVmClient(EventLoopGroup group, LocalAddress address, boolean credits) throws InterruptedException {
    channel = new Bootstrap().group(group.next()).channel(LocalChannel.class)
        .handler(new ChannelInitializer<LocalChannel>() {
          @Override
          protected void initChannel(LocalChannel c) {
            if (credits) {
              c.pipeline().addLast(new Credit.Returner());
            }
            c.pipeline().addLast(new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                try {
                  received.add(msg.getClass());
                  if (msg instanceof HttpResponse h) {
                    head = h;
                  }
                  if (msg instanceof HttpContent hc) {
                    chunks++;
                    body.append(hc.content().toString(StandardCharsets.UTF_8));
                  }
                  if (msg instanceof LastHttpContent) {
                    answer.complete(new Answer(head, body.toString(), chunks));
                  }
                } finally {
                  ReferenceCountUtil.release(msg);
                }
              }
            });
          }
        }).connect(address).sync().channel();
  }

  /** Sends a request; the answer comes in {@link #answer}. */
  CompletableFuture<Answer> send(String path, String json) {
    body.setLength(0);
    chunks = 0;
    head = null;
    answer = new CompletableFuture<>();
    DefaultFullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path,
        Unpooled.copiedBuffer(json, StandardCharsets.UTF_8));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
    channel.writeAndFlush(r);
    return answer;
  }

  Answer call(String path, String json) throws Exception {
    return send(path, json).get(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    channel.close().sync();
  }
}
