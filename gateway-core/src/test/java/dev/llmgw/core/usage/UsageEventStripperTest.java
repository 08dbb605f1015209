package dev.llmgw.core.usage;

import static dev.llmgw.core.usage.Chunks.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.usage.Chunks.Kind;
import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link UsageEventStripper} on its own: the buffer bookkeeping of removing events from a relayed
 * stream. The events to remove are chosen by a stand-in reader (any event with a {@code DROP} line),
 * so this is about slices, held events, copies, reference counts and the cap, not about usage.
 */
class UsageEventStripperTest {
  private static final String KEEP_A = "data: a\n\n";
  private static final String DROP = "data: x\ndata: DROP\n\n";
  private static final String KEEP_B = ": b\r\ndata: b\r\n\r\n";

  /** Drops an event that has a {@code DROP} line; can be told to fail on a line. */
  static final class DropRule implements SseFramer.Lines {
    boolean drop;
    String failOn;

    @Override
    public void line(byte[] a, int from, int to) {
      String s = new String(a, from, to - from, StandardCharsets.UTF_8);
      if (s.equals(failOn)) {
        throw new IllegalStateException("a bug in reading");
      }
      drop |= s.equals("data: DROP");
    }

    @Override
    public void lineTooLong() {}

    @Override
    public boolean endEvent() {
      boolean d = drop;
      drop = false;
      return d;
    }
  }

  private final DropRule rule = new DropRule();
  private final List<ByteBuf> out = new ArrayList<>();

  private UsageEventStripper stripper(int maxEventBytes) {
    return new UsageEventStripper(new SseFramer(rule, maxEventBytes), maxEventBytes);
  }

  /** What the oracle keeps: every event but those with a DROP line (an unfinished last event is kept). */
  private static String expected(String stream) {
    StringBuilder sb = new StringBuilder();
    for (String ev : SseOracle.events(stream)) {
      boolean complete = ev.endsWith("\n\n") || ev.endsWith("\r\n\r\n");
      if (!(complete && ev.contains("\ndata: DROP\n"))) {
        sb.append(ev);
      }
    }
    return sb.toString();
  }

  /** Runs the stream cut at {@code cuts} and returns what was forwarded; checks every input was released. */
  private String run(UsageEventStripper s, String stream, int[] cuts, Random kinds) {
    byte[] input = utf8(stream);
    ByteArrayOutputStream client = new ByteArrayOutputStream();
    List<ByteBuf> inputs = new ArrayList<>();
    Kind[] all = Kind.values();
    int from = 0;
    for (int i = 0; i <= cuts.length; i++) {
      int to = i < cuts.length ? cuts[i] : input.length;
      ByteBuf c = Chunks.chunk(input, from, to, all[kinds.nextInt(all.length)]);
      inputs.add(c);
      s.onChunk(c, out);
      Chunks.drainTo(out, client);
      from = to;
    }
    s.finish(out);
    Chunks.drainTo(out, client);
    Chunks.assertAllReleased(inputs);
    return client.toString(StandardCharsets.UTF_8);
  }

  @Test
  void removesTheChosenEventsAtEverySplitPoint() {
    String stream = KEEP_A + DROP + KEEP_B + DROP + DROP + KEEP_A + "data: tail";
    String expected = expected(stream);
    assertThat(expected).isEqualTo(KEEP_A + KEEP_B + KEEP_A + "data: tail");
    Random random = new Random(1);
    for (int[] cuts : Chunks.everySplit(stream.length())) {
      assertThat(run(stripper(1024), stream, cuts, random)).as(Arrays.toString(cuts)).isEqualTo(expected);
    }
    for (int i = 0; i < 200; i++) {
      int[] cuts = Chunks.randomCuts(random, stream.length(), 12);
      assertThat(run(stripper(1024), stream, cuts, random)).as(Arrays.toString(cuts)).isEqualTo(expected);
    }
    assertThat(run(stripper(1024), stream, Chunks.everyByte(stream.length()), random)).isEqualTo(expected);
  }

  @Test
  void aChunkOfWholeKeptEventsIsForwardedItself() {
    UsageEventStripper s = stripper(1024);
    ByteBuf c = Chunks.chunk(utf8(KEEP_A + KEEP_B), 0, (KEEP_A + KEEP_B).length(), Kind.OFFSET);
    int reader = c.readerIndex();
    s.onChunk(c, out);
    assertThat(out).singleElement().isSameAs(c);
    assertThat(c.readerIndex()).isEqualTo(reader);
    assertThat(c.refCnt()).isOne();
    out.remove(0).release();
  }

  @Test
  void aDroppedEventIsCutOutOfItsChunkWithSlices() {
    UsageEventStripper s = stripper(1024);
    String stream = KEEP_A + DROP + KEEP_B;
    ByteBuf c = Chunks.chunk(utf8(stream), 0, stream.length(), Kind.DIRECT);
    s.onChunk(c, out);
    assertThat(out).hasSize(2);
    assertThat(c.refCnt()).as("two slices retain it").isEqualTo(2);
    assertThat(Chunks.drainTo(out, new ByteArrayOutputStream())).isEqualTo(2);
    assertThat(c.refCnt()).isZero();

    ByteBuf only = Chunks.chunk(utf8(DROP), 0, DROP.length(), Kind.HEAP);
    s.onChunk(only, out);
    assertThat(out).isEmpty();
    assertThat(only.refCnt()).as("a chunk that is only the dropped event is released").isZero();
  }

  @Test
  void anEventAcrossTwoChunksIsHeldByKeepingTheChunk() {
    UsageEventStripper s = stripper(1024);
    byte[] input = utf8(KEEP_A + KEEP_B);
    int cut = KEEP_A.length() + 5;
    ByteBuf first = Chunks.chunk(input, 0, cut, Kind.DIRECT);
    s.onChunk(first, out);
    assertThat(out).hasSize(1); // KEEP_A, as a slice
    out.remove(0).release();
    assertThat(first.refCnt()).as("held by the stripper").isOne();
    assertThat(first.readerIndex()).isEqualTo(KEEP_A.length());
    ByteBuf second = Chunks.chunk(input, cut, input.length, Kind.DIRECT);
    s.onChunk(second, out);
    assertThat(out).hasSize(2);
    assertThat(out.get(0)).as("the held chunk itself, no copy").isSameAs(first);
    assertThat(out.get(1)).isSameAs(second);
    Chunks.drainTo(out, new ByteArrayOutputStream());
    assertThat(first.refCnt()).isZero();
    assertThat(second.refCnt()).isZero();
  }

  @Test
  void anEventAcrossThreeChunksIsCopiedOnceAndItsChunksLetGo() {
    UsageEventStripper s = stripper(1024);
    byte[] input = utf8(KEEP_B);
    List<ByteBuf> inputs = new ArrayList<>();
    for (int[] r : new int[][] {{0, 4}, {4, 9}, {9, 12}}) {
      ByteBuf c = Chunks.chunk(input, r[0], r[1], Kind.HEAP);
      inputs.add(c);
      s.onChunk(c, out);
      assertThat(out).isEmpty();
    }
    Chunks.assertAllReleased(inputs); // the copy holds the bytes
    ByteBuf last = Chunks.chunk(input, 12, input.length, Kind.HEAP);
    s.onChunk(last, out);
    ByteArrayOutputStream client = new ByteArrayOutputStream();
    assertThat(Chunks.drainTo(out, client)).isEqualTo(2);
    assertThat(client.toString(StandardCharsets.UTF_8)).isEqualTo(KEEP_B);
    assertThat(last.refCnt()).isZero();
  }

  @Test
  void releaseFreesTheHeldEventAndFinishForwardsIt() {
    for (boolean copied : new boolean[] {false, true}) {
      UsageEventStripper s = stripper(1024);
      List<ByteBuf> inputs = new ArrayList<>();
      byte[] input = utf8(DROP);
      int[][] ranges = copied ? new int[][] {{0, 3}, {3, 6}, {6, 9}} : new int[][] {{0, 9}};
      for (int[] r : ranges) {
        ByteBuf c = Chunks.chunk(input, r[0], r[1], Kind.DIRECT);
        inputs.add(c);
        s.onChunk(c, out);
      }
      assertThat(out).isEmpty();
      s.release();
      s.release(); // idempotent
      Chunks.assertAllReleased(inputs);
    }
    UsageEventStripper s = stripper(1024);
    ByteBuf c = Chunks.chunk(utf8(DROP), 0, 10, Kind.DIRECT);
    s.onChunk(c, out);
    s.finish(out); // the stream ended inside the event: it goes as it is
    assertThat(out).singleElement().isSameAs(c);
    out.remove(0).release();
  }

  @Test
  void anEventPastTheCapIsForwardedAsItComesAndStrippingGoesOn() {
    String big = "data: " + "y".repeat(200) + "\n: more\n\n";
    String stream = KEEP_A + DROP + big + DROP + KEEP_B;
    Random random = new Random(2);
    for (int[] cuts : List.of(new int[] {KEEP_A.length() + DROP.length() + 100}, new int[] {30, 60, 90, 120, 150, 180},
        Chunks.everyByte(stream.length()))) {
      assertThat(run(stripper(64), stream, cuts, random)).as(Arrays.toString(cuts)).isEqualTo(KEEP_A + big + KEEP_B);
    }
  }

  @Test
  void anEventWhoseBeginningWasForwardedIsForwardedWhole() {
    String bigDrop = ": pad pad pad pad pad pad pad pad\n".repeat(4) + "data: DROP\n\n";
    String stream = KEEP_A + bigDrop + DROP + KEEP_B;
    Random random = new Random(4);
    for (int[] cuts : List.of(new int[] {KEEP_A.length() + 70}, new int[] {KEEP_A.length() + 70, KEEP_A.length() + 140},
        Chunks.everyByte(stream.length()))) {
      assertThat(run(stripper(64), stream, cuts, random)).as(Arrays.toString(cuts)).isEqualTo(KEEP_A + bigDrop + KEEP_B);
    }
    assertThat(run(stripper(1024), stream, new int[] {KEEP_A.length() + 70}, random)).isEqualTo(KEEP_A + KEEP_B);
  }

  @Test
  void aReadingFailureForwardsTheRestAsItIs() {
    rule.failOn = "data: b";
    String stream = DROP + KEEP_A + "data: x\n" + KEEP_B + DROP + KEEP_A;
    int cut = DROP.length() + KEEP_A.length() + 4; // an event held when the failure comes
    UsageEventStripper s = stripper(1024);
    String forwarded = run(s, stream, new int[] {cut, stream.length() - 5}, new Random(3));
    // the first DROP went before the failure; everything after it is forwarded, even the later DROP
    assertThat(forwarded).isEqualTo(KEEP_A + "data: x\n" + KEEP_B + DROP + KEEP_A);
  }
}
