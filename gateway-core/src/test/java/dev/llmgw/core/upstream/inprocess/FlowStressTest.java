package dev.llmgw.core.upstream.inprocess;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.config.InProcessSpec;
import dev.llmgw.core.upstream.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Flow control over real in-VM channels sharing one event loop, as the gateway's do: streams of a
 * scripted model to a reader that pauses at random (as the gateway does while its client cannot take
 * more) always end. A regression test: credits handled and answered inside a channel's own flush
 * once left the stream's last chunks in the outbound buffer for good (Netty drops a nested flush).
 */
class FlowStressTest {
  @Test
  void everyStreamEndsWhateverTheReaderDoes() throws Exception {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, Transport.nio().ioHandlerFactory());
    ScriptedEngine engine = new ScriptedEngine(100_000, 60);
    InferenceServer server = InferenceServer.start("t", InProcessSpec.of(Path.of("x.gguf"), 100_000, 1, 2, 4), engine,
        new LocalAddress("flow-stress"), group);
    try {
      for (int round = 0; round < 200; round++) {
        CompletableFuture<String> done = new CompletableFuture<>();
        StringBuilder got = new StringBuilder();
        int pauseOneIn = 1 + round % 4;
        Channel ch = new Bootstrap().group(group.next()).channel(LocalChannel.class)
            .handler(new ChannelInitializer<LocalChannel>() {
              @Override
              protected void initChannel(LocalChannel c) {
                c.pipeline().addLast(new Credit.Returner(), new ChannelInboundHandlerAdapter() {
                  @Override
                  public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    try {
                      if (msg instanceof HttpContent hc) {
                        got.append(hc.content().toString(StandardCharsets.UTF_8));
                      }
                      if (msg instanceof LastHttpContent) {
                        done.complete(got.toString());
                      } else if (ThreadLocalRandom.current().nextInt(pauseOneIn) == 0) {
                        ctx.channel().config().setAutoRead(false);
                        ctx.executor().schedule(() -> ctx.channel().config().setAutoRead(true),
                            ThreadLocalRandom.current().nextInt(3), TimeUnit.MILLISECONDS);
                      }
                    } finally {
                      ReferenceCountUtil.release(msg);
                    }
                  }
                });
              }
            }).connect(server.address()).sync().channel();
        String body = "{\"model\":\"m\",\"stream\":true,\"max_tokens\":60,\"prompt\":\"x\"}";
        ch.writeAndFlush(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/completions",
            Unpooled.copiedBuffer(body, StandardCharsets.UTF_8))).sync();
        String text = done.get(5, TimeUnit.SECONDS);
        assertThat(text).as("round %d", round).contains(" w59\"").endsWith("data: [DONE]\n\n");
        ch.close().sync();
      }
      assertThat(engine.completed.get()).isEqualTo(200);
    } finally {
      server.close();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }
}
