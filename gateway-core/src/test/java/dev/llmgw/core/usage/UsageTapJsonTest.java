package dev.llmgw.core.usage;

import static dev.llmgw.core.usage.Chunks.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.usage.Chunks.Kind;
import dev.llmgw.core.usage.Chunks.Result;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The usage tap on non-streaming JSON bodies, fed chunk by chunk to Jackson's non-blocking parser.
 * {@code llama-*.json} are real llama.cpp b11669 responses (usage before {@code timings}); the OpenAI
 * one is pretty-printed as OpenAI sends it.
 */
class UsageTapJsonTest {
  @AfterEach
  void releaseTaps() {
    Chunks.releaseAll();
  }

  private static final String OPENAI_TEXT =
      "Sure\u2014here is the JSON you asked for: {\"usage\":{\"prompt_tokens\":1}}. Enjoy your caf\u00e9 \u2615"
          + "\uD83D\uDE00 and good luck!";

  @ParameterizedTest
  @CsvSource({
      "openai-chat.json, 1117, 46, 1024",
      "llama-chat.json, 31, 12, 30",
      "llama-completions.json, 3, 6, 2"})
  void usageAndTextAtEverySplitPoint(String name, long prompt, long completion, long cached) {
    byte[] input = Chunks.resource(name);
    String text = SseOracle.text("data: " + Chunks.text(name).replace("\n", "") + "\n\n");
    assertThat(text).isNotEmpty();
    Kind[] kinds = Kind.values();
    for (int[] cuts : Chunks.everySplit(input.length)) {
      UsageTap tap = UsageTap.forJson();
      Result r = Chunks.run(tap, input, cuts, kinds[(cuts.length == 0 ? 0 : cuts[0]) % kinds.length]);
      String where = name + " cut at " + Arrays.toString(cuts);
      assertThat(r.bytes()).as(where).isEqualTo(input);
      assertThat(r.buffers()).as(where).isEqualTo(cuts.length + 1);
      assertThat(tap.usage()).as(where).isEqualTo(new TokenUsage(prompt, completion, cached, false));
      assertThat(tap.generatedText()).as(where).isEqualTo(text);
      assertThat(tap.sawDone()).isFalse();
    }
  }

  @Test
  void theOpenAiTextIsTheMessageContent() {
    UsageTap tap = UsageTap.forJson();
    Chunks.run(tap, Chunks.resource("openai-chat.json"), new int[0], Kind.DIRECT);
    assertThat(tap.generatedText()).isEqualTo(OPENAI_TEXT);
    assertThat(tap.generatedTextTruncated()).isFalse();
  }

  @Test
  void randomSplitsAndBufferShapes() {
    Random random = new Random(42);
    for (String name : List.of("openai-chat.json", "llama-chat.json")) {
      byte[] input = Chunks.resource(name);
      for (int i = 0; i < 300; i++) {
        UsageTap tap = UsageTap.forJson();
        Result r = Chunks.run(tap, input, Chunks.randomCuts(random, input.length, i % 2 == 0 ? 5 : 300), random);
        assertThat(r.bytes()).isEqualTo(input);
        assertThat(tap.usage()).isNotNull();
      }
    }
  }

  @Test
  void chunksAreForwardedThemselves() {
    byte[] input = Chunks.resource("llama-chat.json");
    UsageTap tap = UsageTap.forJson();
    List<ByteBuf> out = new ArrayList<>();
    for (int[] range : new int[][] {{0, 100}, {100, 500}, {500, input.length}}) {
      ByteBuf c = Chunks.chunk(input, range[0], range[1], Kind.COMPOSITE);
      int reader = c.readerIndex();
      tap.onChunk(c, out);
      assertThat(out).singleElement().isSameAs(c);
      assertThat(c.refCnt()).isOne();
      assertThat(c.readerIndex()).isEqualTo(reader);
      out.remove(0).release();
    }
    tap.onEnd(out);
    assertThat(out).isEmpty();
    assertThat(tap.usage()).isEqualTo(new TokenUsage(31, 12, 30, false));
  }

  @Test
  void onlyTheTopLevelUsageCounts() {
    String body = "{\"id\":\"x\",\"metadata\":{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":5}},"
        + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"\\\"usage\\\": {\\\"prompt_tokens\\\": 1}\","
        + "\"usage\":{\"prompt_tokens\":7}},\"usage\":{\"prompt_tokens\":9}}],"
        + "\"data\":[{\"usage\":{\"total_tokens\":4}}],"
        + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5,\"x\":{\"usage\":{\"prompt_tokens\":8}}},"
        + "\"after\":{\"usage\":{\"prompt_tokens\":6}}}";
    for (int[] cuts : Chunks.everySplit(body.length())) {
      UsageTap tap = UsageTap.forJson();
      Chunks.run(tap, utf8(body), cuts, Kind.HEAP);
      assertThat(tap.usage()).isEqualTo(new TokenUsage(3, 2, 0, false));
      assertThat(tap.generatedText()).isEqualTo("\"usage\": {\"prompt_tokens\": 1}");
    }
    String nestedOnly = "{\"choices\":[{\"message\":{\"content\":\"hi\",\"usage\":{\"prompt_tokens\":7}}}],"
        + "\"meta\":{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":5}},\"usage\":null}";
    UsageTap tap = UsageTap.forJson();
    Chunks.run(tap, utf8(nestedOnly), new int[] {40}, Kind.DIRECT);
    assertThat(tap.usage()).isNull();
    assertThat(tap.generatedText()).isEqualTo("hi");
  }

  @Test
  void malformedBodiesNeverThrowAndReportNoUsage() {
    String usage = "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}";
    List<String> bodies = List.of(
        "{\"choices\":[{\"message\":{\"content\":\"hi\"}}],,\"x\":1," + usage,
        "{\"choices\":[{\"message\":{\"content\":\"hi\"}}] \"oops\" " + usage,
        "<html><body>502 Bad Gateway</body></html>",
        "{\"choices\":[{\"message\":{\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":3,",   // truncated
        "{\"choices\":[{\"message\":{\"content\":\"unterminated",
        "\u0000\u0001\u00ff",
        "",
        "[1,2,3]",
        "{\"usage\":{\"prompt_tokens\":\"3\",\"completion_tokens\":true}}");
    for (String body : bodies) {
      byte[] input = utf8(body);
      for (int[] cuts : Chunks.everySplit(input.length)) {
        UsageTap tap = UsageTap.forJson();
        Result r = Chunks.run(tap, input, cuts, Kind.DIRECT);
        assertThat(r.bytes()).as(body).isEqualTo(input);
        assertThat(tap.usage()).as(body).isNull();
      }
    }
  }

  @Test
  void usageReadBeforeTheBodyBreaksOffStillCounts() {
    // tokens were spent: a body cut (or spoilt) after the usage object still reports it
    String body = "{\"choices\":[{\"message\":{\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,"
        + "\"total_tokens\":5},\"timings\":{\"prompt_n\":3,";
    UsageTap tap = UsageTap.forJson();
    Result r = Chunks.run(tap, utf8(body), new int[] {30, 90}, Kind.DIRECT);
    assertThat(r.string()).isEqualTo(body);
    assertThat(tap.usage()).isEqualTo(new TokenUsage(3, 2, 0, false));
    assertThat(tap.generatedText()).isEqualTo("hi");
  }

  @Test
  void whatFollowsTheBodyIsNotParsed() {
    String body = "{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n garbage {\"usage\":{\"prompt_tokens\":9}}";
    UsageTap tap = UsageTap.forJson();
    Result r = Chunks.run(tap, utf8(body), new int[] {52}, Kind.DIRECT);
    assertThat(r.string()).isEqualTo(body);
    assertThat(tap.usage()).isEqualTo(new TokenUsage(3, 2, 0, false));
  }

  @Test
  void embeddingsUsageHasNoCompletionTokens() {
    String body = "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":[0.0023064255,"
        + "-0.009327292,-0.0028842222]}],\"model\":\"text-embedding-3-small\",\"usage\":{\"prompt_tokens\":8,"
        + "\"total_tokens\":8}}";
    UsageTap tap = UsageTap.forJson();
    Chunks.run(tap, utf8(body), new int[] {77}, Kind.OFFSET);
    assertThat(tap.usage()).isEqualTo(new TokenUsage(8, 0, 0, false));
    assertThat(tap.usage().total()).isEqualTo(8);
    assertThat(tap.generatedText()).isEmpty();
  }

  @Test
  void partialUsageObjectsAreCompletedFromTheTotal() {
    assertThat(usageOf("{\"usage\":{\"prompt_tokens\":8,\"total_tokens\":20}}")).isEqualTo(new TokenUsage(8, 12, 0, false));
    assertThat(usageOf("{\"usage\":{\"completion_tokens\":5,\"total_tokens\":20}}")).isEqualTo(new TokenUsage(15, 5, 0, false));
    assertThat(usageOf("{\"usage\":{\"total_tokens\":20}}")).isEqualTo(new TokenUsage(20, 0, 0, false));
    assertThat(usageOf("{\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":2,\"prompt_cache_hit_tokens\":6}}"))
        .isEqualTo(new TokenUsage(8, 2, 6, false));
    assertThat(usageOf("{\"usage\":{\"prompt_tokens\":8.0,\"completion_tokens\":-2,\"prompt_tokens_details\":null}}"))
        .isEqualTo(new TokenUsage(8, 0, 0, false));
    assertThat(usageOf("{\"usage\":{\"prompt_tokens\":99999999999999999999999,\"completion_tokens\":2}}"))
        .isEqualTo(new TokenUsage(0, 2, 0, false));
    assertThat(usageOf("{\"usage\":{}}")).isNull();
    assertThat(usageOf("{\"usage\":[1,2]}")).isNull();
  }

  private static TokenUsage usageOf(String body) {
    UsageTap tap = UsageTap.forJson();
    Chunks.run(tap, utf8(body), new int[0], Kind.DIRECT);
    return tap.usage();
  }

  @Test
  void toolCallArgumentsAreCaptured() {
    String body = "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":"
        + "\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
        + "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":80,\"completion_tokens\":17,\"total_tokens\":97}}";
    UsageTap tap = UsageTap.forJson();
    Chunks.run(tap, utf8(body), new int[] {120}, Kind.DIRECT);
    assertThat(tap.generatedText()).isEqualTo("{\"city\":\"Paris\"}");
    assertThat(tap.usage()).isEqualTo(new TokenUsage(80, 17, 0, false));
  }

  @Test
  void capturedTextIsCapped() {
    String content = "abcdefgh".repeat(10_000); // 80,000 chars
    String body = "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"" + content + "\"}}],\"usage\":{\"prompt_tokens\":1,"
        + "\"completion_tokens\":20000,\"total_tokens\":20001}}";
    UsageTap tap = UsageTap.forJson();
    Random random = new Random(3);
    Result r = Chunks.run(tap, utf8(body), Chunks.randomCuts(random, body.length(), 40), random);
    assertThat(r.string()).isEqualTo(body);
    assertThat(tap.generatedText()).isEqualTo(content.substring(0, 64 * 1024));
    assertThat(tap.generatedTextTruncated()).isTrue();
    assertThat(tap.usage()).isEqualTo(new TokenUsage(1, 20000, 0, false));
  }

  @Test
  void theCappedTextIsAPrefixWhenTheCapFallsInsideASurrogatePair() {
    String pad = "p".repeat(64 * 1024 - 1);
    String body = "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"" + pad + "\uD83D\uDE00\"}},"
        + "{\"index\":1,\"message\":{\"content\":\"more\"}}]}";
    UsageTap tap = UsageTap.forJson();
    Chunks.run(tap, utf8(body), new int[] {1000}, Kind.HEAP);
    assertThat(tap.generatedText()).isEqualTo(pad);
    assertThat(tap.generatedTextTruncated()).isTrue();
  }

  @Test
  void releaseMidBodyThenLateChunks() {
    byte[] input = Chunks.resource("openai-chat.json");
    UsageTap tap = UsageTap.forJson();
    List<ByteBuf> out = new ArrayList<>();
    ByteBuf first = Chunks.chunk(input, 0, 400, Kind.DIRECT); // past the message content
    tap.onChunk(first, out);
    assertThat(out).containsExactly(first);
    out.remove(0).release();
    tap.release();
    tap.release();
    ByteBuf late = Chunks.chunk(input, 400, input.length, Kind.DIRECT);
    tap.onChunk(late, out);
    assertThat(out).isEmpty();
    assertThat(late.refCnt()).isZero();
    tap.onEnd(out);
    assertThat(out).isEmpty();
    assertThat(tap.usage()).isNull();
    assertThat(tap.generatedText()).isEqualTo(OPENAI_TEXT); // the content had passed
  }

  // ------------------------------------------------------------- the whole-body path (onLastChunk)

  /** Bodies for the differential test: real responses plus every odd case above. */
  private static List<byte[]> corpus() {
    List<byte[]> all = new ArrayList<>();
    for (String name : List.of("openai-chat.json", "llama-chat.json", "llama-completions.json")) {
      all.add(Chunks.resource(name));
    }
    for (String body : List.of(
        "{\"id\":\"x\",\"metadata\":{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":5}},\"choices\":[{\"message\":"
            + "{\"content\":\"\\\"usage\\\": {\\\"prompt_tokens\\\": 1}\",\"usage\":{\"prompt_tokens\":7}}}],"
            + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5,\"x\":{\"usage\":{\"prompt_tokens\":8}}}}",
        "{\"choices\":[{\"message\":{\"content\":\"hi\",\"usage\":{\"prompt_tokens\":7}}}],\"usage\":null}",
        "{\"choices\":[{\"message\":{\"content\":\"hi\"}}]}",
        "{\"choices\":[{\"message\":{\"content\":\"hi\"}}],\"usage\":{}}",
        "{\"choices\":[{\"message\":{\"content\":\"hi\"}}],\"usage\":[1,2]}",
        "{\"choices\":[{\"message\":{\"content\":\"hi\"}}],,\"usage\":{\"prompt_tokens\":3}}",
        "{\"choices\":[{\"message\":{\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":3,",
        "{\"choices\":[{\"message\":{\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2},\"t\":{",
        "{\"usage\":{\"prompt_tokens\":\"3\",\"completion_tokens\":true}}",
        "{\"usage\":{\"prompt_tokens\":{\"a\":1},\"completion_tokens\":[2],\"total_tokens\":9}}",
        "{\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":2,\"prompt_tokens_details\":{\"audio_tokens\":{\"x\":1},"
            + "\"cached_tokens\":6}}}",
        "{\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":2,\"prompt_cache_hit_tokens\":6}}",
        "{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n garbage {\"usage\":{\"prompt_tokens\":9}}",
        "<html>502</html>", "[1,2,3]", "\u0000\u0001", "{")) {
      all.add(utf8(body));
    }
    return all;
  }

  @Test
  void aWholeBodyGivesTheSameUsageAsTheTokenWalk() {
    for (byte[] input : corpus()) {
      String what = new String(input, java.nio.charset.StandardCharsets.UTF_8);
      UsageTap walked = UsageTap.forJson();
      Chunks.run(walked, input, new int[0], Kind.DIRECT);
      for (Kind kind : Kind.values()) {
        UsageTap whole = UsageTap.forJson();
        Result r = Chunks.runAsRelay(whole, input, new int[0], kind);
        assertThat(r.bytes()).as(what).isEqualTo(input);
        assertThat(r.buffers()).as(what).isEqualTo(input.length == 0 ? 0 : 1);
        assertThat(whole.usage()).as(what + " " + kind).isEqualTo(walked.usage());
        if (whole.usage() == null) {
          // no usage: the text an estimate needs is captured as before
          assertThat(whole.generatedText()).as(what).isEqualTo(walked.generatedText());
        }
      }
    }
  }

  @Test
  void aWholeBodyWithUsageSkipsTheText() {
    UsageTap tap = UsageTap.forJson();
    Chunks.runAsRelay(tap, Chunks.resource("openai-chat.json"), new int[0], Kind.DIRECT);
    assertThat(tap.usage()).isEqualTo(new TokenUsage(1117, 46, 1024, false));
    assertThat(tap.generatedText()).isEmpty(); // not needed: nothing is estimated when usage came
  }

  @Test
  void aBodyInSeveralChunksIsWalkedAsBefore() {
    byte[] input = Chunks.resource("openai-chat.json");
    for (int[] cuts : Chunks.everySplit(input.length)) {
      if (cuts.length == 0) {
        continue;
      }
      UsageTap tap = UsageTap.forJson();
      Result r = Chunks.runAsRelay(tap, input, cuts, Kind.COMPOSITE);
      assertThat(r.bytes()).isEqualTo(input);
      assertThat(tap.usage()).isEqualTo(new TokenUsage(1117, 46, 1024, false));
      assertThat(tap.generatedText()).isEqualTo(OPENAI_TEXT);
    }
  }

  @Test
  void lastChunkAfterReleaseIsFreed() {
    UsageTap tap = UsageTap.forJson();
    tap.release();
    List<ByteBuf> out = new ArrayList<>();
    ByteBuf c = Chunks.chunk(Chunks.resource("llama-chat.json"), 0, 100, Kind.DIRECT);
    tap.onLastChunk(c, out);
    assertThat(out).isEmpty();
    assertThat(c.refCnt()).isZero();
  }

  @Test
  void aBodyThatIsNotOneWellFormedObjectIsMalformedWholeOrInChunks() {
    java.util.Map<String, Boolean> bodies = new java.util.LinkedHashMap<>();
    bodies.put("{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":1,"
        + "\"completion_tokens\":2,\"total_tokens\":3}}", false);
    bodies.put("{\"id\":\"x\",\"choices\":[]}  \n", false);
    bodies.put("<html><body>Bad gateway</body></html>", true);
    bodies.put("not json at all", true);
    bodies.put("{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":\"hi", true);
    bodies.put("{\"id\":\"x\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}} trailing", true);
    bodies.put("{\"id\": x}", true);
    bodies.put("", true);
    bodies.put("[1,2]", true);
    bodies.forEach((body, malformed) -> {
      byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      for (int cut : new int[] {-1, bytes.length / 2}) {
        UsageTap tap = UsageTap.forJson();
        java.util.List<io.netty.buffer.ByteBuf> out = new java.util.ArrayList<>();
        if (cut > 0) {
          tap.onChunk(io.netty.buffer.Unpooled.copiedBuffer(bytes, 0, cut), out);
          tap.onLastChunk(io.netty.buffer.Unpooled.copiedBuffer(bytes, cut, bytes.length - cut), out);
        } else {
          tap.onLastChunk(io.netty.buffer.Unpooled.copiedBuffer(bytes), out);
        }
        out.forEach(io.netty.buffer.ByteBuf::release);
        assertThat(tap.malformed()).as("%s (cut at %d)", body, cut).isEqualTo(malformed);
      }
    });
  }
}
