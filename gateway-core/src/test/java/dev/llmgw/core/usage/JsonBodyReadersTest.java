package dev.llmgw.core.usage;

import static dev.llmgw.core.usage.Chunks.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgw.core.usage.Chunks.Kind;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The two readers under {@link JsonBodyTap}, each on its own: {@link JsonBodyWalk} and {@link WholeJsonBody}. */
class JsonBodyReadersTest {
  private static final String BODY = "{\"id\":\"x\",\"choices\":[{\"index\":0,\"message\":{\"content\":\"h\\u00e9llo\"}}],"
      + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}";

  // ------------------------------------------------------------------ the walk, chunk by chunk

  /** Walks {@code body} cut at {@code cuts}; returns the root end index per chunk (-1: not in it). */
  private static int[] walk(String body, int[] cuts, Kind kind, UsageMeter meter, ResponseWalker walker)
      throws IOException {
    JsonBodyWalk walk = new JsonBodyWalk(walker);
    byte[] input = utf8(body);
    int[] ends = new int[cuts.length + 1];
    int from = 0;
    for (int i = 0; i <= cuts.length; i++) {
      int to = i < cuts.length ? cuts[i] : input.length;
      ByteBuf c = Chunks.chunk(input, from, to, kind);
      int reader = c.readerIndex();
      ends[i] = walk.rootEnded() ? -2 : walk.feed(c); // -2: not fed, the value had ended
      if (ends[i] >= 0) {
        ends[i] -= reader; // relative to the chunk's readable bytes
      }
      assertThat(c.readerIndex()).as("borrowed, unchanged").isEqualTo(reader);
      assertThat(c.refCnt()).isOne();
      c.release();
      from = to;
    }
    walk.endOfInput();
    meter.report(walker.usage());
    walk.close();
    return ends;
  }

  @Test
  void theWalkReadsUsageAndTextAtEverySplitPoint() throws IOException {
    for (int[] cuts : Chunks.everySplit(BODY.length())) {
      for (Kind kind : Kind.values()) {
        UsageMeter meter = new UsageMeter();
        int[] ends = walk(BODY, cuts, kind, meter, new ResponseWalker(meter));
        String where = Arrays.toString(cuts) + " " + kind;
        assertThat(meter.usage()).as(where).isEqualTo(new TokenUsage(3, 2, 0, false));
        assertThat(meter.text()).as(where).isEqualTo("h\u00e9llo");
        assertThat(ends[ends.length - 1]).as(where).isEqualTo(utf8(BODY).length - (cuts.length == 0 ? 0 : cuts[cuts.length - 1]));
      }
    }
  }

  @Test
  void theWalkStopsAtTheEndOfTheRootAndSaysWhere() throws IOException {
    String body = BODY + "  \n trailing {\"usage\":{\"prompt_tokens\":9}}";
    UsageMeter meter = new UsageMeter();
    int[] ends = walk(body, new int[] {BODY.length() - 3, BODY.length() + 2}, Kind.COMPOSITE, meter, new ResponseWalker(meter));
    assertThat(ends).containsExactly(-1, 3, -2);
    assertThat(meter.usage()).isEqualTo(new TokenUsage(3, 2, 0, false));
  }

  @Test
  void theWalkSaysWhenTheRootIsNotAnObjectAndThrowsOnBadJson() throws IOException {
    UsageMeter meter = new UsageMeter();
    JsonBodyWalk walk = new JsonBodyWalk(new ResponseWalker(meter));
    ByteBuf c = Chunks.chunk(utf8("[1,2]"), 0, 5, Kind.DIRECT);
    assertThat(walk.feed(c)).isEqualTo(5);
    assertThat(walk.rootNotObject()).isTrue();
    c.release();
    walk.close();

    JsonBodyWalk bad = new JsonBodyWalk(new ResponseWalker(meter));
    ByteBuf b = Chunks.chunk(utf8("{\"a\":}"), 0, 6, Kind.HEAP);
    assertThatThrownBy(() -> bad.feed(b)).isInstanceOf(IOException.class);
    assertThat(b.refCnt()).isOne();
    b.release();
    bad.close();
  }

  // ------------------------------------------------------------------ the whole body, skipping to usage

  @Test
  void aWholeBodyGivesItsUsageAndWhetherItIsOneObject() {
    Map<String, TokenUsage> wellFormed = new LinkedHashMap<>();
    wellFormed.put(BODY, new TokenUsage(3, 2, 0, false));
    wellFormed.put("{\"choices\":[]}", null);
    wellFormed.put("{\"usage\":null,\"x\":{\"usage\":{\"prompt_tokens\":5}}}", null);
    wellFormed.put("{\"usage\":{\"prompt_tokens\":1},\"usage\":{\"prompt_tokens\":2}}", new TokenUsage(1, 0, 0, false));
    wellFormed.put("{\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":2,\"prompt_tokens_details\":{\"cached_tokens\":6}}}  \n",
        new TokenUsage(8, 2, 6, false));
    Map<String, TokenUsage> malformed = new LinkedHashMap<>();
    malformed.put("{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2},\"t\":{", new TokenUsage(3, 2, 0, false));
    malformed.put("{\"usage\":{\"prompt_tokens\":3}} trailing", new TokenUsage(3, 0, 0, false));
    malformed.put("{\"choices\":[],,\"usage\":{\"prompt_tokens\":3}}", null);
    malformed.put("[1,2]", null);
    malformed.put("<html>502</html>", null);
    malformed.put("{", null);
    for (Kind kind : Kind.values()) {
      wellFormed.forEach((body, usage) -> check(body, kind, true, usage));
      malformed.forEach((body, usage) -> check(body, kind, false, usage));
    }
  }

  private static void check(String body, Kind kind, boolean wellFormed, TokenUsage usage) {
    UsageMeter meter = new UsageMeter();
    byte[] input = utf8(body);
    ByteBuf c = Chunks.chunk(input, 0, input.length, kind);
    int reader = c.readerIndex();
    assertThat(WholeJsonBody.readUsage(c, new ResponseWalker(meter), meter)).as(body + " " + kind).isEqualTo(wellFormed);
    assertThat(meter.usage()).as(body + " " + kind).isEqualTo(usage);
    assertThat(meter.text()).as("no text is captured").isEmpty();
    assertThat(c.readerIndex()).isEqualTo(reader);
    assertThat(c.refCnt()).isOne();
    c.release();
  }
}
