package dev.llmgw.core.usage;

import static dev.llmgw.core.usage.Chunks.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link SseEventReader} on its own, fed lines as the framer hands them on (no line ends, no buffers). */
class SseEventReaderTest {
  private final List<SseEventReader> readers = new ArrayList<>();
  private static final String USAGE_ONLY = "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,"
      + "\"completion_tokens\":3,\"total_tokens\":13,\"prompt_tokens_details\":{\"cached_tokens\":2}}}";

  private static String content(String text) {
    return "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + text + "\"}}],\"usage\":null}";
  }

  /** A reader given back after the test (its held lines are in a pooled buffer). */
  private SseEventReader reader() {
    SseEventReader r = new SseEventReader();
    readers.add(r);
    return r;
  }

  @AfterEach
  void release() {
    readers.forEach(SseEventReader::release);
  }

  private static void line(SseEventReader r, String line) {
    byte[] b = utf8("xx" + line + "yy"); // the line sits inside a larger array
    r.line(b, 2, b.length - 2);
  }

  /** Feeds one event's lines and ends it; returns the verdict. */
  private static boolean event(SseEventReader r, String... lines) {
    for (String l : lines) {
      line(r, l);
    }
    return r.endEvent();
  }

  @Test
  void theUsageOnlyEventIsTheOneToDrop() {
    SseEventReader r = reader();
    assertThat(event(r, content("hi"))).isFalse();
    assertThat(event(r, ": comment", "event: message", "id: 1", USAGE_ONLY)).isTrue(); // other fields travel along
    assertThat(r.usage()).isEqualTo(new TokenUsage(10, 3, 2, false));
    assertThat(event(r, "data: [DONE]")).isFalse();
    assertThat(r.sawDone()).isTrue();
    assertThat(r.generatedText()).isEqualTo("hi");
  }

  @Test
  void eventsThatAreNotTheUsageOnlyOne() {
    for (List<String> lines : List.of(
        List.of(USAGE_ONLY, "data: {\"x\":1}"), // two data lines
        List.of("data: {\"choices\":[{\"index\":0,\"delta\":{}}],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":5}}"),
        List.of("data: {\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":5}}"), // no choices
        List.of("data: {\"choices\":[],\"usage\":null}"),
        List.of("data: {\"choices\":[],\"usage\":{}}"), // no counts: no usage
        List.of("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":4,}"), // not JSON
        List.of("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":4}} {}"), // not one value
        List.of(": {\"choices\":[],\"usage\":{\"prompt_tokens\":4}}"))) { // a comment
      SseEventReader r = reader();
      assertThat(event(r, lines.toArray(String[]::new))).as("%s", lines).isFalse();
    }
    SseEventReader r = reader();
    line(r, USAGE_ONLY);
    r.lineTooLong(); // a line too long to read, in the same event
    assertThat(r.endEvent()).isFalse();
    assertThat(event(r, USAGE_ONLY)).as("the next event starts afresh").isTrue();
  }

  @Test
  void dataLineForms() {
    SseEventReader r = reader();
    assertThat(event(r, "data:" + USAGE_ONLY.substring(6))).isTrue(); // no space after the colon
    assertThat(event(r, "data:  \t" + USAGE_ONLY.substring(6) + "  ")).isTrue(); // whitespace around the value
    for (String notDone : List.of("data: [DONE]x", "data: \"[DONE]\"", ": [DONE]", "data:[DONE ]")) {
      SseEventReader n = reader();
      event(n, notDone);
      assertThat(n.sawDone()).as(notDone).isFalse();
    }
    for (String done : List.of("data: [DONE]", "data:[DONE]", "data: [DONE]  ")) {
      SseEventReader d = reader();
      event(d, done);
      assertThat(d.sawDone()).as(done).isTrue();
    }
  }

  @Test
  void theLastUsageWins() {
    SseEventReader r = reader();
    event(r, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":1}}");
    event(r, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"}}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2}}");
    event(r, "data: {\"choices\":[],\"usage\":null}");
    assertThat(r.usage()).isEqualTo(new TokenUsage(7, 2, 0, false));
    assertThat(r.generatedText()).isEqualTo("ab"); // the text of usage lines, in order with the rest
  }

  @Test
  void textLinesAreHeldUntilTheTextIsAskedFor() {
    SseEventReader r = reader();
    event(r, content("one "));
    event(r, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"two \"}}],\"usage\":{\"prompt_tokens\":1}}");
    event(r, content("three"));
    assertThat(r.usage()).isEqualTo(new TokenUsage(1, 0, 0, false)); // read at once
    assertThat(r.generatedText()).isEqualTo("one two three");
    event(r, content(" four")); // held again after the text was asked for
    assertThat(r.generatedText()).isEqualTo("one two three four");
    assertThat(r.generatedTextTruncated()).isFalse();
  }

  @Test
  void pastTheHoldingCapTextIsParsedAsItPassesInOrder() {
    SseEventReader r = reader();
    StringBuilder expected = new StringBuilder();
    int lineBytes = utf8(content("w000 ")).length;
    int events = 2 * SseEventReader.HOLD_CAP / lineBytes; // twice what is held
    for (int i = 0; i < events; i++) {
      String w = String.format("w%03d ", i % 1000);
      event(r, content(w));
      expected.append(w);
    }
    assertThat(r.generatedText()).isEqualTo(expected.toString());
  }

  @Test
  void textPastTheCapIsNotKeptAndMarksItTruncated() {
    SseEventReader r = reader();
    String piece = "0123456789abcdef".repeat(64); // 1 KiB
    for (int i = 0; i < 70; i++) {
      event(r, content(piece));
    }
    event(r, USAGE_ONLY);
    assertThat(r.generatedText()).isEqualTo(piece.repeat(64));
    assertThat(r.generatedTextTruncated()).isTrue();
    assertThat(r.usage()).isEqualTo(new TokenUsage(10, 3, 2, false));
  }

  @Test
  void heldTextIsReadableAfterClose() {
    SseEventReader r = reader();
    event(r, content("kept"));
    r.close();
    assertThat(r.generatedText()).isEqualTo("kept");
    assertThat(r.generatedText()).isEqualTo("kept");
  }

  @Test
  void releaseForgetsTheHeldText() {
    SseEventReader r = reader();
    event(r, content("gone"));
    r.release();
    r.release();
    assertThat(r.generatedText()).isEmpty();
  }

  @Test
  void aMalformedLineDoesNotDisturbTheNextOnes() {
    SseEventReader r = reader();
    event(r, "data: {\"choices\":[{\"delta\":{\"content\":\"bad\"}}],\"oops\":}");
    event(r, "data: {\"choices\":[{\"delta\":{\"content\":\"half\"}}");
    assertThat(event(r, USAGE_ONLY)).isTrue();
    event(r, content("ok"));
    assertThat(r.usage()).isEqualTo(new TokenUsage(10, 3, 2, false));
    assertThat(r.generatedText()).endsWith("ok");
  }
}
