package dev.llmgw.core.usage;

import static dev.llmgw.core.usage.Chunks.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgw.core.usage.Chunks.Kind;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link SseFramer} on its own: what lines and event ends it reports, however the stream is cut. */
class SseFramerTest {

  /** Records what the framer hands on: "L:<line>", "TOO_LONG", "END". */
  static final class Recorder implements SseFramer.Lines {
    final List<String> seen = new ArrayList<>();
    RuntimeException throwOn; // thrown when a line equal to throwLine arrives
    String throwLine;

    @Override
    public void line(byte[] a, int from, int to) {
      String s = new String(a, from, to - from, StandardCharsets.UTF_8);
      if (s.equals(throwLine)) {
        throw throwOn;
      }
      seen.add("L:" + s);
    }

    @Override
    public void lineTooLong() {
      seen.add("TOO_LONG");
    }

    @Override
    public boolean endEvent() {
      seen.add("END");
      return false;
    }
  }

  /** Frames {@code stream} cut at {@code cuts}, as a driver does; returns what was seen (and checks the chunks). */
  private static List<String> frame(String stream, int[] cuts, Kind kind, int maxLine) {
    Recorder rec = new Recorder();
    SseFramer framer = new SseFramer(rec, maxLine);
    byte[] input = utf8(stream);
    int from = 0;
    for (int i = 0; i <= cuts.length; i++) {
      int to = i < cuts.length ? cuts[i] : input.length;
      ByteBuf c = Chunks.chunk(input, from, to, kind);
      int reader = c.readerIndex();
      List<Integer> ends = new ArrayList<>();
      for (int pos = reader; (pos = framer.nextEventEnd(c, pos)) >= 0; ) {
        ends.add(pos);
        assertThat(c.getByte(pos - 1)).as("an event ends after a line end").isEqualTo((byte) '\n');
        framer.endEvent();
      }
      assertThat(c.readerIndex()).as("the chunk is only read").isEqualTo(reader);
      assertThat(c.refCnt()).isOne();
      c.release();
      from = to;
    }
    framer.finish();
    assertThat(framer.failed()).isFalse();
    return rec.seen;
  }

  @Test
  void linesAndEventsAtEverySplitPoint() {
    String stream = ": comment\n\ndata: {\"a\":1}\nid: 7\n\nevent: x\r\ndata: two\r\n\r\ndata: [DONE]\n\n";
    List<String> expected = List.of("L:: comment", "END", "L:data: {\"a\":1}", "L:id: 7", "END",
        "L:event: x", "L:data: two", "END", "L:data: [DONE]", "END");
    for (int[] cuts : Chunks.everySplit(stream.length())) {
      for (Kind kind : Kind.values()) {
        assertThat(frame(stream, cuts, kind, 1024)).as("cut at %s, %s", Arrays.toString(cuts), kind)
            .isEqualTo(expected);
      }
    }
    assertThat(frame(stream, Chunks.everyByte(stream.length()), Kind.DIRECT, 1024)).isEqualTo(expected);
  }

  @Test
  void aFinalLineWithoutLineEndIsReadAtTheFinish() {
    assertThat(frame("data: a\n\ndata: b", new int[] {12}, Kind.HEAP, 100))
        .containsExactly("L:data: a", "END", "L:data: b");
    assertThat(frame("data: a\n\r", new int[0], Kind.HEAP, 100)).containsExactly("L:data: a"); // blank: no line
    assertThat(frame("data: a\n", new int[0], Kind.HEAP, 100)).containsExactly("L:data: a");
  }

  @Test
  void aLineAboveTheCapIsReportedNotReadAndTheNextLinesAreRead() {
    String big = "data: " + "x".repeat(100);
    String stream = big + "\n" + "data: ok\n\n" + big + "\r\n\r\n";
    for (int[] cuts : List.of(new int[0], new int[] {10, 50, 90}, Chunks.everyByte(stream.length()))) {
      assertThat(frame(stream, cuts, Kind.OFFSET, 50))
          .containsExactly("TOO_LONG", "L:data: ok", "END", "TOO_LONG", "END");
    }
    // exactly at the cap is still read
    assertThat(frame("data: 1234\n\n", new int[] {3}, Kind.DIRECT, 10)).containsExactly("L:data: 1234", "END");
    assertThat(frame("data: 12345\n\n", new int[] {3}, Kind.DIRECT, 10)).containsExactly("TOO_LONG", "END");
  }

  @Test
  void aFailureIsLoggedOnceAndEndsAllReading() {
    Recorder rec = new Recorder();
    rec.throwLine = "data: boom";
    rec.throwOn = new IllegalStateException("a bug");
    SseFramer framer = new SseFramer(rec, 1024);
    ByteBuf c = Chunks.chunk(utf8("data: a\n\ndata: boom\n\ndata: b\n\n"), 0, 30, Kind.DIRECT);
    assertThat(framer.nextEventEnd(c, 0)).isEqualTo(9);
    framer.endEvent();
    assertThat(framer.nextEventEnd(c, 9)).isEqualTo(-1);
    assertThat(framer.failed()).isTrue();
    assertThat(framer.nextEventEnd(c, 9)).isEqualTo(-1);
    framer.finish(); // no throw, nothing read
    assertThat(rec.seen).containsExactly("L:data: a", "END");
    assertThat(c.refCnt()).isOne();
    c.release();
  }

  @Test
  void theLineCapMustBePositive() {
    assertThatThrownBy(() -> new SseFramer(new Recorder(), 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void releaseForgetsAHalfLine() {
    Recorder rec = new Recorder();
    SseFramer framer = new SseFramer(rec, 1024);
    ByteBuf c = Chunks.chunk(utf8("data: half"), 0, 10, Kind.HEAP);
    assertThat(framer.nextEventEnd(c, 0)).isEqualTo(-1);
    c.release();
    framer.release();
    framer.finish();
    assertThat(rec.seen).isEmpty();
  }
}
