package dev.llmgw.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The receive timeout on a keep-alive connection, on the channel's own (frozen) clock: every request
 * is timed from its own first byte, although the timer is armed lazily, once for several requests.
 */
class RequestReceiveTimeoutHandlerTest {
  static final long TIMEOUT_MS = 1_000;
  static final String BODY = "{\"model\":\"m\"}";
  static final String REQUEST = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      + "Content-Length: " + BODY.length() + "\r\n\r\n" + BODY;

  EmbeddedChannel ch;
  int received;

  @BeforeEach
  void setUp() {
    RequestReceiveTimeoutHandler[] pair = RequestReceiveTimeoutHandler.pair(Duration.ofMillis(TIMEOUT_MS));
    ch = new EmbeddedChannel();
    ch.freezeTime();
    ch.pipeline().addLast(pair[0], new HttpServerCodec(), new ClientRequestAggregator(1 << 20), pair[1],
        new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            received++;
            ReferenceCountUtil.release(msg);
          }
        });
  }

  @AfterEach
  void tearDown() {
    ch.finishAndReleaseAll();
  }

  private void send(String s) {
    ch.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII));
  }

  private void advance(long ms) {
    ch.advanceTimeBy(ms, TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
  }

  private String written() {
    StringBuilder sb = new StringBuilder();
    for (Object o; (o = ch.readOutbound()) != null; ) {
      if (o instanceof ByteBuf b) {
        sb.append(b.toString(StandardCharsets.UTF_8));
      }
      ReferenceCountUtil.release(o);
    }
    return sb.toString();
  }

  @Test
  void aLaterRequestIsTimedFromItsOwnFirstByte() {
    send(REQUEST); // armed for this one, which completes at once
    assertThat(received).isEqualTo(1);
    advance(TIMEOUT_MS - 100);
    send(REQUEST.substring(0, 20)); // the next request starts 100 ms before the first timer fires
    advance(150); // the timer fires: a request is being received, but for 150 ms only
    assertThat(written()).isEmpty();
    assertThat(ch.isActive()).isTrue();
    advance(TIMEOUT_MS - 200); // 950 ms into the second request
    assertThat(written()).isEmpty();
    advance(60); // 1,010 ms
    assertThat(written()).startsWith("HTTP/1.1 408").contains("\"code\":\"request_timeout\"");
    assertThat(ch.isActive()).isFalse();
    assertThat(received).isEqualTo(1);
  }

  @Test
  void requestsThatArriveInTimeAreNeverCutHoweverLongTheConnectionLives() {
    for (int i = 0; i < 20; i++) {
      send(REQUEST.substring(0, 30));
      advance(TIMEOUT_MS / 2);
      send(REQUEST.substring(30));
      advance(TIMEOUT_MS / 3);
    }
    assertThat(received).isEqualTo(20);
    assertThat(written()).isEmpty();
    assertThat(ch.isActive()).isTrue();
  }
}
