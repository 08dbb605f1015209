package dev.llmgw.core.usage;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Drives a {@link UsageTap} the way the relay does, with real pooled buffers of several shapes, and
 * checks that every input buffer ends up fully released once the forwarded ones are released.
 */
final class Chunks {
  static final PooledByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

  enum Kind {
    /** pooled direct, reader index 0 */
    DIRECT,
    /** pooled heap */
    HEAP,
    /** pooled direct with bytes before the reader index (absolute indexes must be honoured) */
    OFFSET,
    /** a composite of up to three pooled components */
    COMPOSITE
  }

  private Chunks() {}

  static byte[] resource(String name) {
    try (InputStream in = Chunks.class.getResourceAsStream("/usage/" + name)) {
      assertThat(in).as(name).isNotNull();
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String text(String name) {
    return new String(resource(name), StandardCharsets.UTF_8);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String crlf(String s) {
    return s.replace("\r\n", "\n").replace("\n", "\r\n");
  }

  /** A pooled buffer of {@code src[from, to)}. */
  static ByteBuf chunk(byte[] src, int from, int to, Kind kind) {
    int len = to - from;
    switch (kind) {
      case DIRECT -> {
        return ALLOC.directBuffer(len).writeBytes(src, from, len);
      }
      case HEAP -> {
        return ALLOC.heapBuffer(len).writeBytes(src, from, len);
      }
      case OFFSET -> {
        ByteBuf b = ALLOC.directBuffer(len + 7);
        b.writeBytes(new byte[] {'x', '\n', '\n', 'y', '"', '\r', '\n'});
        b.writeBytes(src, from, len);
        b.readerIndex(7);
        return b;
      }
      case COMPOSITE -> {
        CompositeByteBuf c = ALLOC.compositeDirectBuffer();
        int a = from + len / 3;
        int m = from + 2 * len / 3;
        int[] cuts = {from, a, m, to};
        for (int i = 0; i < 3; i++) {
          if (cuts[i + 1] > cuts[i]) {
            c.addComponent(true, ALLOC.directBuffer(cuts[i + 1] - cuts[i]).writeBytes(src, cuts[i], cuts[i + 1] - cuts[i]));
          }
        }
        return c;
      }
      default -> throw new AssertionError(kind);
    }
  }

  /** What the client received, and how. */
  record Result(byte[] bytes, int buffers, List<ByteBuf> inputs) {
    String string() {
      return new String(bytes, StandardCharsets.UTF_8);
    }
  }

  /** Feeds {@code input} cut at {@code cuts} (sorted, within (0, len)), then ends the response. */
  static Result run(UsageTap tap, byte[] input, int[] cuts, Kind kind) {
    return run(tap, input, cuts, i -> kind);
  }

  static Result run(UsageTap tap, byte[] input, int[] cuts, Random kinds) {
    Kind[] all = Kind.values();
    return run(tap, input, cuts, i -> all[kinds.nextInt(all.length)]);
  }

  interface KindChooser {
    Kind kind(int chunkIndex);
  }

  static Result run(UsageTap tap, byte[] input, int[] cuts, KindChooser kinds) {
    return run(tap, input, cuts, kinds, false);
  }

  /** As the relay feeds it: the last chunk through {@link UsageTap#onLastChunk}. */
  static Result runAsRelay(UsageTap tap, byte[] input, int[] cuts, Kind kind) {
    return run(tap, input, cuts, i -> kind, true);
  }

  static Result run(UsageTap tap, byte[] input, int[] cuts, KindChooser kinds, boolean lastChunkCall) {
    ByteArrayOutputStream client = new ByteArrayOutputStream();
    List<ByteBuf> inputs = new ArrayList<>();
    List<ByteBuf> out = new ArrayList<>();
    int buffers = 0;
    int from = 0;
    for (int i = 0; i <= cuts.length; i++) {
      int to = i < cuts.length ? cuts[i] : input.length;
      ByteBuf c = chunk(input, from, to, kinds.kind(i));
      inputs.add(c);
      if (lastChunkCall && i == cuts.length) {
        tap.onLastChunk(c, out);
      } else {
        tap.onChunk(c, out);
      }
      buffers += drainTo(out, client);
      from = to;
    }
    if (!lastChunkCall) {
      tap.onEnd(out);
      buffers += drainTo(out, client);
    }
    OPEN.add(tap); // released by releaseAll(), after the test has read its text
    assertAllReleased(inputs);
    return new Result(client.toByteArray(), buffers, inputs);
  }

  private static final List<UsageTap> OPEN = new ArrayList<>();

  /**
   * Runs {@code body} on an event loop's thread (Netty's {@code Recycler} pools only on such threads),
   * rethrowing what it threw.
   */
  static void onEventLoopLikeThread(Runnable body) {
    io.netty.channel.DefaultEventLoop loop = new io.netty.channel.DefaultEventLoop();
    try {
      loop.submit(body).syncUninterruptibly();
    } finally {
      loop.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  /** Has {@link #releaseAll} release {@code tap} too. */
  static UsageTap track(UsageTap tap) {
    OPEN.add(tap);
    return tap;
  }

  /** Releases the taps {@link #run} fed (a tap's generated text is readable until it is released). */
  static void releaseAll() {
    OPEN.forEach(UsageTap::release);
    OPEN.clear();
  }

  /** Copies each forwarded buffer out as a client would receive it, and releases it. */
  static int drainTo(List<ByteBuf> out, ByteArrayOutputStream client) {
    int n = out.size();
    for (ByteBuf b : out) {
      assertThat(b.refCnt()).as("a forwarded buffer must be live").isPositive();
      byte[] bytes = new byte[b.readableBytes()];
      b.getBytes(b.readerIndex(), bytes);
      client.writeBytes(bytes);
      b.release();
    }
    out.clear();
    return n;
  }

  static void assertAllReleased(List<ByteBuf> inputs) {
    for (int i = 0; i < inputs.size(); i++) {
      assertThat(inputs.get(i).refCnt()).as("input chunk %d still referenced", i).isZero();
    }
  }

  /** Every single cut point, as a one-element cut list (plus the uncut stream). */
  static List<int[]> everySplit(int len) {
    List<int[]> all = new ArrayList<>();
    all.add(new int[0]);
    for (int i = 1; i < len; i++) {
      all.add(new int[] {i});
    }
    return all;
  }

  /** Up to {@code maxCuts} random distinct cut points, sorted. */
  static int[] randomCuts(Random r, int len, int maxCuts) {
    if (len < 2) {
      return new int[0];
    }
    int n = 1 + r.nextInt(Math.max(1, Math.min(maxCuts, len - 1)));
    return r.ints(n, 1, len).distinct().sorted().toArray();
  }

  /** Every byte its own chunk. */
  static int[] everyByte(int len) {
    int[] cuts = new int[Math.max(0, len - 1)];
    Arrays.setAll(cuts, i -> i + 1);
    return cuts;
  }
}
