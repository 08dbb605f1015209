package dev.llmgw.core.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContentDecompressor;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The backend channel's relay: a decompressor only on a connection whose backend compresses (added with its
 * first compressed answer, kept for the next), and none on the path of identity answers.
 */
class BackendRelayHandlerTest {
  final EmbeddedChannel ch = new EmbeddedChannel();
  final StringBuilder seen = new StringBuilder();

  @AfterEach
  void close() {
    ch.finishAndReleaseAll();
  }

  BackendRelayHandler relay() {
    ch.pipeline().addLast("http", new HttpClientCodec());
    BackendRelayHandler relay = new BackendRelayHandler(ch);
    ch.pipeline().addLast("relay", relay);
    relay.attach(new BackendRelayHandler.BackendListener() {
      @Override
      public void onBackendMessage(Object msg) {
        if (msg instanceof HttpResponse head) {
          seen.append("HEAD encoding=").append(head.headers().get("content-encoding")).append(';');
        }
        if (msg instanceof HttpContent c) {
          seen.append(c.content().toString(StandardCharsets.UTF_8));
        }
        ReferenceCountUtil.release(msg);
      }

      @Override
      public void onBackendReadComplete() {}

      @Override
      public void onBackendClosed() {}

      @Override
      public void onBackendError(Throwable cause) {
        throw new AssertionError(cause);
      }
    });
    return relay;
  }

  void exchange(String responseHead, byte[] body) {
    ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/chat/completions"));
    for (Object o; (o = ch.readOutbound()) != null; ) {
      ReferenceCountUtil.release(o);
    }
    ByteBuf in = Unpooled.buffer();
    in.writeCharSequence(responseHead + "Content-Length: " + body.length + "\r\n\r\n", StandardCharsets.US_ASCII);
    in.writeBytes(body);
    ch.writeInbound(in);
  }

  static byte[] gzip(String s) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(s.getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  @Test
  void identityAnswersPassNoDecompressor() {
    relay();
    exchange("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", "{\"a\":1}".getBytes(StandardCharsets.UTF_8));
    assertThat(seen.toString()).isEqualTo("HEAD encoding=null;{\"a\":1}");
    assertThat(ch.pipeline().get(HttpContentDecompressor.class)).isNull();
  }

  @Test
  void aCompressingBackendGetsOneDecompressorForItsConnection() throws Exception {
    relay();
    exchange("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n", gzip("{\"a\":1}"));
    exchange("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n", gzip("{\"b\":2}"));
    exchange("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", "{\"c\":3}".getBytes(StandardCharsets.UTF_8));
    assertThat(seen.toString()).isEqualTo("HEAD encoding=null;{\"a\":1}HEAD encoding=null;{\"b\":2}"
        + "HEAD encoding=null;{\"c\":3}");
    assertThat(ch.pipeline().names()).containsSubsequence("http", "inflate", "relay")
        .filteredOn("inflate"::equals).hasSize(1);
  }
}
