package dev.llmgw.core.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The client channel's write coalescer, under a real HTTP encoder: the bytes on the wire are exactly
 * those without it, in the same order, in fewer buffers; nothing it is given is leaked (the leak check
 * runs with every test class).
 */
class WriteCoalescerTest {
  final List<EmbeddedChannel> channels = new ArrayList<>();

  @AfterEach
  void close() {
    channels.forEach(EmbeddedChannel::finishAndReleaseAll);
  }

  EmbeddedChannel channel(ChannelHandler... handlers) {
    EmbeddedChannel ch = new EmbeddedChannel(handlers);
    channels.add(ch);
    return ch;
  }

  static HttpResponse chunkedHead() {
    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream");
    head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    return head;
  }

  static DefaultHttpContent event(String data) {
    return new DefaultHttpContent(Unpooled.copiedBuffer("data: " + data + "\n\n", UTF_8));
  }

  /** A stream written as the relay writes it: head, events with the void promise, a flush per batch. */
  static void stream(EmbeddedChannel ch, int batches, int eventsPerBatch) {
    ch.write(chunkedHead(), ch.voidPromise());
    for (int b = 0; b < batches; b++) {
      for (int e = 0; e < eventsPerBatch; e++) {
        ch.write(event("{\"choices\":[{\"delta\":{\"content\":\"batch " + b + " event " + e + "\"}}]}"),
            ch.voidPromise());
      }
      ch.flush();
    }
    ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, ch.voidPromise());
  }

  /** Drains the channel's outbound buffers: [count, bytes]. */
  static Drained drain(EmbeddedChannel ch) {
    Drained d = new Drained();
    for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
      d.buffers++;
      d.text.append(b.toString(UTF_8));
      b.release();
    }
    return d;
  }

  static final class Drained {
    int buffers;
    final StringBuilder text = new StringBuilder();
  }

  @Test
  void aStreamGoesOutAsTheSameBytesInOneBufferPerFlush() {
    EmbeddedChannel plain = channel(new HttpResponseEncoder());
    EmbeddedChannel coalesced = channel(new WriteCoalescer(), new HttpResponseEncoder());
    stream(plain, 5, 3);
    stream(coalesced, 5, 3);

    Drained without = drain(plain);
    Drained with = drain(coalesced);
    assertThat(with.text.toString()).isEqualTo(without.text.toString());
    assertThat(with.text.toString()).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n0\r\n\r\n");
    // the encoder alone: the head, three buffers per event, the last chunk
    assertThat(without.buffers).isEqualTo(1 + 5 * 3 * 3 + 1);
    // gathered: the head with the first batch, one buffer per later batch, the last chunk on its own flush
    assertThat(with.buffers).isEqualTo(5 + 1);
  }

  @Test
  void aWriteWithAPromiseGoesOutAfterWhatWasGatheredAndItsPromiseCompletes() {
    EmbeddedChannel ch = channel(new WriteCoalescer(), new HttpResponseEncoder());
    ch.write(chunkedHead(), ch.voidPromise());
    ch.write(event("one"), ch.voidPromise());
    ChannelFuture two = ch.write(event("two"));
    ch.write(event("three"), ch.voidPromise());
    ch.flush();

    assertThat(two.isSuccess()).isTrue();
    List<String> buffers = new ArrayList<>();
    for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
      buffers.add(b.toString(UTF_8));
      b.release();
    }
    String wire = String.join("", buffers);
    assertThat(wire.indexOf("data: one")).isLessThan(wire.indexOf("data: two"));
    assertThat(wire.indexOf("data: two")).isLessThan(wire.indexOf("data: three"));
    // the event with a promise travels in its own three buffers, untouched
    assertThat(buffers).contains("data: two\n\n");
  }

  @Test
  void aLargeBufferIsPassedOnAsItIs() {
    EmbeddedChannel ch = channel(new WriteCoalescer());
    ByteBuf small = Unpooled.copiedBuffer("small", UTF_8);
    ByteBuf large = Unpooled.buffer(WriteCoalescer.MAX_PIECE + 1).writeZero(WriteCoalescer.MAX_PIECE + 1);
    ch.write(small, ch.voidPromise());
    ch.write(large, ch.voidPromise());
    ch.flush();

    ByteBuf first = ch.readOutbound();
    ByteBuf second = ch.readOutbound();
    assertThat(first.toString(UTF_8)).isEqualTo("small");
    assertThat(second).isSameAs(large);
    assertThat(small.refCnt()).isZero(); // copied, then released
    first.release();
    second.release();
  }

  @Test
  void gatheredBytesPastTheLimitAreWrittenOnBeforeTheFlush() {
    EmbeddedChannel ch = channel(new WriteCoalescer());
    int piece = 1000;
    int pieces = WriteCoalescer.MAX_GATHERED / piece + 1;
    for (int i = 0; i < pieces; i++) {
      ch.write(Unpooled.buffer(piece).writeZero(piece), ch.voidPromise());
    }
    // not flushed, yet the channel's outbound buffer already counts what passed the limit
    // (Netty counts some bytes of overhead per entry on top)
    assertThat(ch.unsafe().outboundBuffer().totalPendingWriteBytes())
        .isBetween((long) (pieces - 1) * piece, (long) (pieces - 1) * piece + 256);
    ch.flush();
    Drained d = drain(ch);
    assertThat(d.buffers).isEqualTo(2);
    assertThat(d.text.length()).isEqualTo(pieces * piece);
  }

  @Test
  void whatIsGatheredWhenTheChannelClosesIsReleased() {
    EmbeddedChannel ch = channel(new WriteCoalescer(), new HttpResponseEncoder());
    ch.write(chunkedHead(), ch.voidPromise());
    ch.write(event("never flushed"), ch.voidPromise());
    ch.close().syncUninterruptibly(); // no exception either (EmbeddedChannel rethrows one)
    assertThat((Object) ch.readOutbound()).isNull(); // dropped, as unflushed writes are at a close
    // the leak check of this class fails if the gathered buffer was not released
  }

  @Test
  void whatIsGatheredWhenTheHandlerIsRemovedIsReleased() {
    EmbeddedChannel ch = channel(new WriteCoalescer());
    ch.write(Unpooled.copiedBuffer("pending", UTF_8), ch.voidPromise());
    ch.pipeline().removeFirst();
    ch.flush();
    assertThat((Object) ch.readOutbound()).isNull();
  }
}
