package dev.llmgw.core.usage;

import static dev.llmgw.core.usage.Chunks.utf8;
import static dev.llmgw.core.usage.DataLineCheck.HAS_TEXT;
import static dev.llmgw.core.usage.DataLineCheck.HAS_USAGE;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The small pieces under {@link SseEventReader}: {@link DataLineCheck}, {@link HeldLines}, {@link DataLineParser}. */
class DataLinePiecesTest {

  private static int kinds(String line) {
    byte[] b = utf8("  " + line + "  ");
    return DataLineCheck.kinds(b, 2, b.length - 2);
  }

  @Test
  void theCheckFindsUsageObjectsAndNonEmptyText() {
    assertThat(kinds("{\"choices\":[],\"usage\":{\"prompt_tokens\":1}}")).isEqualTo(HAS_USAGE);
    assertThat(kinds("{\"usage\" : \t{ }}")).isEqualTo(HAS_USAGE);
    assertThat(kinds("{\"usage\":null}")).isZero();
    assertThat(kinds("{\"usage\":[1]}")).isZero();
    assertThat(kinds("{\"delta\":{\"content\":\"a\"}}")).isEqualTo(HAS_TEXT);
    assertThat(kinds("{\"delta\":{\"reasoning_content\" : \"a\"}}")).isEqualTo(HAS_TEXT);
    assertThat(kinds("{\"text\":\"a\"}")).isEqualTo(HAS_TEXT);
    assertThat(kinds("{\"function\":{\"arguments\":\"{}\"}}")).isEqualTo(HAS_TEXT);
    assertThat(kinds("{\"delta\":{\"content\":\"\"}}")).isZero();
    assertThat(kinds("{\"delta\":{\"content\":null}}")).isZero();
    assertThat(kinds("{\"delta\":{\"contents\":\"a\"}}")).isZero();
    assertThat(kinds("{\"delta\":{\"content\":\"a\"}},\"usage\":{\"prompt_tokens\":1}}")).isEqualTo(HAS_USAGE | HAS_TEXT);
    assertThat(kinds("{\"role\":\"assistant\"}")).isZero();
    assertThat(kinds("{\"usage\":")).isZero(); // cut: no value
    // a usage key anywhere counts: the check may say yes, the parse decides
    assertThat(kinds("{\"x\":{\"usage\":{}}}")).isEqualTo(HAS_USAGE);
    // inside a string, a key's closing quote is escaped: no match
    assertThat(kinds("{\"x\":\"\\\"usage\\\":{\"}")).isZero();
    assertThat(kinds("{\"x\":\"a \\\"content\\\":\\\"b\"}")).isZero();
  }

  @Test
  void heldLinesComeBackInOrderAndTheCapHolds() {
    HeldLines held = new HeldLines(20);
    byte[] a = utf8("..abc..defgh..");
    assertThat(held.add(a, 2, 5)).isTrue(); // 4 bytes with its line end
    assertThat(held.add(a, 7, 12)).isTrue(); // 6
    assertThat(held.length()).isEqualTo(10);
    assertThat(held.add(a, 0, 10)).as("would pass the cap").isFalse();
    assertThat(held.length()).isEqualTo(10);
    assertThat(held.add(a, 2, 11)).isTrue(); // exactly 20
    List<String> lines = new ArrayList<>();
    held.drainTo((b, from, to) -> lines.add(new String(b, from, to - from, StandardCharsets.US_ASCII)));
    assertThat(lines).containsExactly("abc", "defgh", "abc..defg");
    assertThat(held.length()).isZero();
    held.drainTo((b, from, to) -> lines.add("again"));
    assertThat(lines).hasSize(3);
  }

  private static byte[] arrayOf(HeldLines held) {
    byte[][] seen = {null};
    held.drainTo((b, from, to) -> seen[0] = b);
    return seen[0];
  }

  @Test
  void heldLinesReuseTheirFirstArrayOnceGivenBack() {
    Chunks.onEventLoopLikeThread(DataLinePiecesTest::reuse);
  }

  private static void reuse() {
    byte[] a = utf8("{\"x\":1}");
    Set<byte[]> arrays = Collections.newSetFromMap(new IdentityHashMap<>());
    for (int i = 0; i < 200; i++) { // streams one after another, half drained and half released
      HeldLines held = new HeldLines(SseEventReader.HOLD_CAP);
      held.add(a, 0, a.length);
      if (i % 2 == 0) {
        arrays.add(arrayOf(held));
      } else {
        held.release();
        held.release(); // idempotent
        assertThat(held.length()).isZero();
        HeldLines next = new HeldLines(SseEventReader.HOLD_CAP);
        next.add(a, 0, a.length);
        arrays.add(arrayOf(next));
      }
    }
    assertThat(arrays).as("arrays used by 300 streams in turn").hasSizeLessThan(3);

    // a stream past the pooled size moves to its own array and gives the pooled one back
    HeldLines big = new HeldLines(SseEventReader.HOLD_CAP);
    byte[] line = utf8("y".repeat(999));
    for (int i = 0; i < 12; i++) {
      big.add(line, 0, line.length);
    }
    byte[] own = arrayOf(big);
    assertThat(own.length).isGreaterThan(HeldLines.BLOCK);
    assertThat(arrays).doesNotContain(own);
    HeldLines after = new HeldLines(SseEventReader.HOLD_CAP);
    after.add(a, 0, a.length);
    assertThat(arrays).contains(arrayOf(after));
  }

  @Test
  void heldLinesGrowToTheCap() {
    HeldLines held = new HeldLines(SseEventReader.HOLD_CAP);
    byte[] line = utf8("x".repeat(999));
    int n = 0;
    while (held.add(line, 0, line.length)) {
      n++;
    }
    assertThat(n).isEqualTo(SseEventReader.HOLD_CAP / 1000);
    int[] seen = {0};
    held.drainTo((b, from, to) -> {
      assertThat(to - from).isEqualTo(999);
      seen[0]++;
    });
    assertThat(seen[0]).isEqualTo(n);
  }

  @Test
  void theParserTakesOneValuePerLineAndRecoversFromBadOnes() {
    UsageMeter meter = new UsageMeter();
    ResponseWalker walker = new ResponseWalker(meter);
    DataLineParser parser = new DataLineParser(walker);
    byte[] ok = utf8("{\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}");
    assertThat(parser.parse(ok, 0, ok.length)).isTrue();
    assertThat(walker.usage()).isEqualTo(new TokenUsage(3, 4, 0, false));
    assertThat(walker.choicesEmptyArray()).isTrue();
    for (String bad : List.of("{\"a\":1}{\"b\":2}", "{\"a\":", "{\"a\":}", "[1,2", "nope")) {
      byte[] b = utf8(bad);
      assertThat(parser.parse(b, 0, b.length)).as(bad).isFalse();
    }
    byte[] text = utf8("xx{\"choices\":[{\"delta\":{\"content\":\"hé\"}}]}xx");
    assertThat(parser.parse(text, 2, text.length - 2)).isTrue();
    assertThat(walker.usage()).isNull(); // per value
    assertThat(walker.choicesEmptyArray()).isFalse();
    assertThat(meter.text()).isEqualTo("hé");
    parser.close();
    parser.close();
    assertThat(parser.parse(ok, 0, ok.length)).as("a new parser after close").isTrue();
  }
}
