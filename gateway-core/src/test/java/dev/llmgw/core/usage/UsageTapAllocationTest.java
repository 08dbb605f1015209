package dev.llmgw.core.usage;

import static dev.llmgw.core.usage.Chunks.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Checks the allocation note in {@link EventStreamTap}'s Javadoc: scanning a relayed event stream allocates
 * next to nothing per chunk. Uses unpooled heap wrappers (not tracked by the paranoid leak detector,
 * whose access records would themselves allocate) built before measuring, and this thread's
 * allocation counter.
 */
class UsageTapAllocationTest {
  private static final int EVENTS = 4000;

  private static final com.sun.management.ThreadMXBean THREADS =
      ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t ? t : null;

  private static long allocated() {
    return THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
  }

  private static List<ByteBuf> chunks(String event, int n) {
    byte[] b = utf8(event);
    List<ByteBuf> list = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      list.add(Unpooled.wrappedBuffer(b));
    }
    return list;
  }

  /** Bytes allocated per chunk while {@code tap} takes {@code chunks}. */
  private static double perChunk(UsageTap tap, List<ByteBuf> chunks) {
    List<ByteBuf> out = new ArrayList<>(4);
    long before = allocated();
    for (ByteBuf c : chunks) {
      tap.onChunk(c, out);
      out.clear(); // unpooled heap wrappers: nothing to release
    }
    return (double) (allocated() - before) / chunks.size();
  }

  @Test
  void scanningAndForwardingAllocatesNothingPerChunk() {
    assumeThat(THREADS).isNotNull();
    assumeThat(THREADS.isThreadAllocatedMemorySupported() && THREADS.isThreadAllocatedMemoryEnabled()).isTrue();
    String contentEvent = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
        + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + "lorem ipsum ".repeat(8) + "\"},\"finish_reason\":null}],"
        + "\"usage\":null}\n\n";
    for (boolean strip : new boolean[] {false, true}) {
      UsageTap tap = UsageTap.forEventStream(strip, 64 * 1024);
      perChunk(tap, chunks(contentEvent, 1000)); // fills the text cap; warms up
      double parsed = perChunk(tap, chunks(contentEvent, EVENTS));
      // past the text cap content events are only checked, never parsed
      assertThat(parsed).as("bytes per chunk, strip=%s", strip).isLessThan(8);
      tap.release();
    }
  }

  @Test
  void parsingAnEventAllocatesOnlyWhatItKeeps() {
    assumeThat(THREADS).isNotNull();
    assumeThat(THREADS.isThreadAllocatedMemorySupported() && THREADS.isThreadAllocatedMemoryEnabled()).isTrue();
    // vLLM continuous usage: every event is parsed (usage) and yields one TokenUsage
    String usageEvent = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{}}],\"usage\":{\"prompt_tokens\":7,"
        + "\"completion_tokens\":2,\"total_tokens\":9}}\n\n";
    UsageTap tap = UsageTap.forEventStream(false, 64 * 1024);
    perChunk(tap, chunks(usageEvent, 2000));
    double perEvent = perChunk(tap, chunks(usageEvent, EVENTS));
    assertThat(perEvent).as("bytes per parsed event (one TokenUsage is ~40)").isLessThan(128);
    assertThat(tap.usage()).isEqualTo(new TokenUsage(7, 2, 0, false));
    tap.release();
  }

  /** Bytes allocated per whole stream: a tap made, fed {@code events} content events and a usage one, ended, released. */
  private static double perStream(List<ByteBuf> stream, int streams) {
    List<ByteBuf> out = new ArrayList<>(4);
    long before = allocated();
    for (int i = 0; i < streams; i++) {
      UsageTap tap = UsageTap.forEventStream(true, 64 * 1024);
      for (ByteBuf c : stream) {
        tap.onChunk(c.retainedDuplicate(), out);
        out.clear(); // unpooled heap wrappers: nothing to release
      }
      tap.onEnd(out);
      if (tap.usage() == null) {
        throw new AssertionError("no usage read");
      }
      tap.release();
    }
    return (double) (allocated() - before) / streams;
  }

  @Test
  void aWholeStreamAllocatesNoArrayForItsHeldText() {
    assumeThat(THREADS).isNotNull();
    assumeThat(THREADS.isThreadAllocatedMemorySupported() && THREADS.isThreadAllocatedMemoryEnabled()).isTrue();
    Chunks.onEventLoopLikeThread(UsageTapAllocationTest::wholeStreams); // where the gateway's taps run
  }

  private static void wholeStreams() {
    // a chat stream as the gateway relays it: 20 content events, then the usage-only event it asked for
    List<ByteBuf> stream = chunks("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
        + "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lorem ipsum \"},\"finish_reason\":null}],"
        + "\"usage\":null}\n\n", 20);
    stream.addAll(chunks("data: {\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":20,"
        + "\"total_tokens\":27}}\n\n", 1));
    perStream(stream, 2000); // warms up
    double bytes = perStream(stream, 2000);
    // the held text lines (~3 KB here) sit in a pooled array: what is left is the tap's own objects,
    // the framer's line array and the parser of the usage line, about 2 KB (an 8 KiB array per stream before)
    assertThat(bytes).as("bytes per stream").isLessThan(4096);
  }
}
