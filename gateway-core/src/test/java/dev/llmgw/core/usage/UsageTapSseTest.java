package dev.llmgw.core.usage;

import static dev.llmgw.core.usage.Chunks.crlf;
import static dev.llmgw.core.usage.Chunks.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.usage.Chunks.Kind;
import dev.llmgw.core.usage.Chunks.Result;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The usage tap on OpenAI-style event streams. The fixtures are real llama.cpp b11669 output
 * ({@code llama-*.sse}, captured from {@code ../shared/llama}) and an OpenAI-shaped stream; the
 * expected results come from {@link SseOracle}, which reads the whole stream at once.
 */
class UsageTapSseTest {
  @AfterEach
  void releaseTaps() {
    Chunks.releaseAll();
  }

  /** An event-stream tap released after the test (its held text lines are in a pooled buffer). */
  private static UsageTap sse(boolean strip, int maxEventBytes) {
    return Chunks.track(UsageTap.forEventStream(strip, maxEventBytes));
  }

  private static final int MAX_EVENT = 64 * 1024;
  private static final String OPENAI = "openai-chat-stream.sse";
  private static final String LLAMA_CHAT = "llama-chat-stream.sse";
  private static final String LLAMA_COMPLETIONS = "llama-completions-stream.sse";
  private static final Map<String, TokenUsage> USAGE = Map.of(
      OPENAI, new TokenUsage(1117, 46, 1024, false),
      LLAMA_CHAT, new TokenUsage(31, 12, 0, false),
      LLAMA_COMPLETIONS, new TokenUsage(3, 6, 1, false));

  private static final String USAGE_ONLY = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
      + "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":3,\"total_tokens\":13,"
      + "\"prompt_tokens_details\":{\"cached_tokens\":2}}}\n\n";

  private static String content(String text) {
    return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
        + "\"" + text + "\"},\"finish_reason\":null}]}\n\n";
  }

  // ------------------------------------------------------------------ the fixtures, every way of cutting them

  @Test
  void theOracleRemovesExactlyTheUsageOnlyEvent() {
    String openai = Chunks.text(OPENAI);
    int at = openai.indexOf("data: {\"id\":\"chatcmpl-BxH2sQ7cW1YwJ3kq9o1bqDq5Zl7sT\",\"object\":\"chat.completion.chunk\","
        + "\"created\":1753880512,\"model\":\"gpt-4.1-mini-2025-04-14\",\"service_tier\":\"default\","
        + "\"system_fingerprint\":\"fp_6f2eabb9a5\",\"choices\":[],");
    int end = openai.indexOf("\n\n", at) + 2;
    assertThat(SseOracle.stripped(openai)).isEqualTo(openai.substring(0, at) + openai.substring(end))
        .endsWith("\"finish_reason\":\"stop\"}],\"usage\":null,\"obfuscation\":\"k\"}\n\ndata: [DONE]\n\n");
    assertThat(SseOracle.stripped(Chunks.text(LLAMA_COMPLETIONS))).isEqualTo(Chunks.text(LLAMA_COMPLETIONS));
    String llama = Chunks.text(LLAMA_CHAT);
    at = llama.indexOf("data: {\"choices\":[],");
    end = llama.indexOf("\n\n", at) + 2;
    assertThat(at).isPositive();
    assertThat(SseOracle.stripped(llama)).isEqualTo(llama.substring(0, at) + llama.substring(end))
        .endsWith("\"finish_reason\":\"length\",\"index\":0,\"delta\":{}}],\"created\":1795752739,"
            + "\"id\":\"chatcmpl-xOpoV09y4oFvbOrwrD8vQ4AwxsyGvScg\",\"model\":\"/work/shared/llama/models/"
            + "llama-2-tiny-random.gguf\",\"system_fingerprint\":\"b11669-Debian\",\"object\":\"chat.completion.chunk\"}"
            + "\n\ndata: [DONE]\n\n");
  }

  @ParameterizedTest
  @ValueSource(strings = {OPENAI, LLAMA_CHAT, LLAMA_COMPLETIONS})
  void strippingAtEverySplitPoint(String name) {
    for (String stream : List.of(Chunks.text(name), crlf(Chunks.text(name)))) {
      byte[] input = utf8(stream);
      String expected = SseOracle.stripped(stream);
      String text = SseOracle.text(stream);
      Kind[] kinds = Kind.values();
      for (int[] cuts : Chunks.everySplit(input.length)) {
        UsageTap tap = sse(true, MAX_EVENT);
        Kind kind = kinds[(cuts.length == 0 ? 0 : cuts[0]) % kinds.length];
        Result r = Chunks.run(tap, input, cuts, kind);
        String where = name + (stream.contains("\r\n") ? " (CRLF)" : "") + " cut at " + java.util.Arrays.toString(cuts);
        assertThat(r.string()).as(where).isEqualTo(expected);
        assertThat(tap.usage()).as(where).isEqualTo(USAGE.get(name));
        assertThat(tap.generatedText()).as(where).isEqualTo(text);
        assertThat(tap.sawDone()).as(where).isTrue();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {OPENAI, LLAMA_CHAT, LLAMA_COMPLETIONS})
  void notStrippingForwardsEveryByteAtEverySplitPoint(String name) {
    for (String stream : List.of(Chunks.text(name))) { // CRLF: in the stripping and random tests
      byte[] input = utf8(stream);
      String text = SseOracle.text(stream);
      for (int[] cuts : Chunks.everySplit(input.length)) {
        UsageTap tap = sse(false, MAX_EVENT);
        Result r = Chunks.run(tap, input, cuts, Kind.OFFSET);
        assertThat(r.bytes()).isEqualTo(input);
        assertThat(r.buffers()).isEqualTo(cuts.length + 1);
        assertThat(tap.usage()).isEqualTo(USAGE.get(name));
        assertThat(tap.generatedText()).isEqualTo(text);
        assertThat(tap.sawDone()).isTrue();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {OPENAI, LLAMA_CHAT, LLAMA_COMPLETIONS})
  void randomSplitsAndBufferShapes(String name) {
    Random random = new Random(name.hashCode());
    for (String stream : List.of(Chunks.text(name), crlf(Chunks.text(name)))) {
      byte[] input = utf8(stream);
      String expected = SseOracle.stripped(stream);
      for (int i = 0; i < 150; i++) {
        boolean strip = random.nextBoolean();
        int[] cuts = Chunks.randomCuts(random, input.length, i % 2 == 0 ? 8 : 200);
        UsageTap tap = sse(strip, MAX_EVENT);
        Result r = Chunks.run(tap, input, cuts, random);
        assertThat(r.string()).as("cuts %s", java.util.Arrays.toString(cuts)).isEqualTo(strip ? expected : stream);
        assertThat(tap.usage()).isEqualTo(USAGE.get(name));
        assertThat(tap.sawDone()).isTrue();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {OPENAI, LLAMA_CHAT})
  void oneByteChunks(String name) {
    for (String stream : List.of(Chunks.text(name), crlf(Chunks.text(name)))) {
      byte[] input = utf8(stream);
      UsageTap tap = sse(true, MAX_EVENT);
      Result r = Chunks.run(tap, input, Chunks.everyByte(input.length), Kind.DIRECT);
      assertThat(r.string()).isEqualTo(SseOracle.stripped(stream));
      assertThat(tap.usage()).isEqualTo(USAGE.get(name));
      assertThat(tap.generatedText()).isEqualTo(SseOracle.text(stream));
    }
  }

  @Test
  void usageOnAChunkWithChoicesIsReadButNotStripped() {
    // llama.cpp /v1/completions: usage (and timings) on the last chunk, which still has its choice
    String stream = Chunks.text(LLAMA_COMPLETIONS);
    assertThat(stream).contains("\"finish_reason\":\"length\"}],").contains("\"usage\":{\"completion_tokens\":6");
    UsageTap tap = sse(true, MAX_EVENT);
    Result r = Chunks.run(tap, utf8(stream), new int[0], Kind.DIRECT);
    assertThat(r.string()).isEqualTo(stream);
    assertThat(tap.usage()).isEqualTo(new TokenUsage(3, 6, 1, false));
    assertThat(tap.generatedText()).isEqualTo(" phrase HartentinagesParam Fellow");
  }

  @Test
  void aLegacyCompletionsStreamIsStrippedTheSameWay() {
    String usageOnly = "data: {\"id\":\"cmpl-9\",\"object\":\"text_completion\",\"created\":1,\"model\":\"gpt-3.5-turbo-instruct\","
        + "\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n";
    String stream = "data: {\"id\":\"cmpl-9\",\"object\":\"text_completion\",\"created\":1,\"choices\":[{\"text\":\"Once\","
        + "\"index\":0,\"logprobs\":null,\"finish_reason\":null}],\"model\":\"gpt-3.5-turbo-instruct\",\"usage\":null}\n\n"
        + "data: {\"id\":\"cmpl-9\",\"object\":\"text_completion\",\"created\":1,\"choices\":[{\"text\":\" upon\","
        + "\"index\":0,\"logprobs\":null,\"finish_reason\":\"length\"}],\"model\":\"gpt-3.5-turbo-instruct\",\"usage\":null}\n\n"
        + usageOnly + "data: [DONE]\n\n";
    for (int[] cuts : Chunks.everySplit(stream.length())) {
      UsageTap tap = sse(true, MAX_EVENT);
      Result r = Chunks.run(tap, utf8(stream), cuts, Kind.HEAP);
      assertThat(r.string()).isEqualTo(stream.replace(usageOnly, ""));
      assertThat(tap.usage()).isEqualTo(new TokenUsage(5, 2, 0, false));
      assertThat(tap.generatedText()).isEqualTo("Once upon");
    }
  }

  @Test
  void theEventCapMustBePositive() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> sse(true, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aStreamWithoutUsage() {
    String stream = Chunks.text("llama-chat-stream-nousage.sse"); // real llama.cpp, no include_usage
    for (boolean strip : new boolean[] {true, false}) {
      UsageTap tap = sse(strip, MAX_EVENT);
      Result r = Chunks.run(tap, utf8(stream), new int[] {100, 1000, 3000}, Kind.HEAP);
      assertThat(r.string()).isEqualTo(stream);
      assertThat(tap.usage()).isNull();
      assertThat(tap.generatedText()).isEqualTo(SseOracle.text(stream)).startsWith("[$ struct");
      assertThat(tap.sawDone()).isTrue();
    }
  }

  // ------------------------------------------------------------------ buffers: zero copy, ownership, release

  @Test
  void notStrippingForwardsTheChunksThemselves() {
    byte[] input = Chunks.resource(OPENAI);
    UsageTap tap = sse(false, MAX_EVENT);
    List<ByteBuf> out = new ArrayList<>();
    for (int[] range : new int[][] {{0, 333}, {333, 2000}, {2000, input.length}}) {
      ByteBuf c = Chunks.chunk(input, range[0], range[1], Kind.DIRECT);
      tap.onChunk(c, out);
      assertThat(out).singleElement().isSameAs(c);
      assertThat(c.refCnt()).isOne();
      assertThat(c.readerIndex()).isZero();
      out.remove(0).release();
    }
    tap.onEnd(out);
    assertThat(out).isEmpty();
    assertThat(tap.usage()).isEqualTo(USAGE.get(OPENAI));
  }

  @Test
  void strippingForwardsWholeEventChunksThemselvesAndDropsTheUsageOne() {
    String stream = Chunks.text(OPENAI);
    List<String> events = SseOracle.events(stream);
    UsageTap tap = sse(true, MAX_EVENT);
    List<ByteBuf> out = new ArrayList<>();
    int dropped = 0;
    for (String ev : events) {
      byte[] b = utf8(ev);
      ByteBuf c = Chunks.chunk(b, 0, b.length, Kind.DIRECT);
      tap.onChunk(c, out);
      if (SseOracle.usageOnly(ev)) {
        dropped++;
        assertThat(out).isEmpty();
        assertThat(c.refCnt()).as("the dropped event's chunk is released").isZero();
      } else {
        assertThat(out).singleElement().isSameAs(c);
        out.remove(0).release();
      }
    }
    tap.onEnd(out);
    assertThat(out).isEmpty();
    assertThat(dropped).isOne();
    assertThat(tap.usage()).isEqualTo(USAGE.get(OPENAI));
  }

  @Test
  void usageEventSharingAChunkWithOthersIsCutOut() {
    String stream = content("a") + USAGE_ONLY + "data: [DONE]\n\n";
    UsageTap tap = sse(true, MAX_EVENT);
    Result r = Chunks.run(tap, utf8(stream), new int[0], Kind.OFFSET);
    assertThat(r.string()).isEqualTo(content("a") + "data: [DONE]\n\n");
    assertThat(r.buffers()).isEqualTo(2); // the run before and the run after
    assertThat(tap.usage()).isEqualTo(new TokenUsage(10, 3, 2, false));
  }

  @Test
  void releaseMidStreamFreesTheHeldEvent() {
    byte[] input = utf8(content("hello") + USAGE_ONLY);
    int cut = content("hello").length() + 30; // inside the usage event
    UsageTap tap = sse(true, MAX_EVENT);
    List<ByteBuf> out = new ArrayList<>();
    ByteBuf first = Chunks.chunk(input, 0, cut, Kind.DIRECT);
    tap.onChunk(first, out);
    assertThat(out).hasSize(1); // the complete content event, as a slice; the rest is held
    assertThat(first.refCnt()).isEqualTo(2);
    out.remove(0).release();
    assertThat(first.refCnt()).as("held by the tap").isOne();

    tap.release();
    assertThat(first.refCnt()).isZero();
    ByteBuf late = Chunks.chunk(input, cut, input.length, Kind.DIRECT);
    tap.onChunk(late, out);
    assertThat(out).isEmpty();
    assertThat(late.refCnt()).as("input after release() is released").isZero();
    tap.onEnd(out);
    assertThat(out).isEmpty();
    tap.release(); // idempotent
    assertThat(tap.generatedText()).as("released with the held lines").isEmpty();
  }

  @Test
  void releaseFreesAnEventCopiedFromSeveralChunks() {
    byte[] input = utf8(USAGE_ONLY);
    UsageTap tap = sse(true, MAX_EVENT);
    List<ByteBuf> out = new ArrayList<>();
    List<ByteBuf> inputs = new ArrayList<>();
    for (int[] range : new int[][] {{0, 10}, {10, 20}, {20, 30}}) {
      ByteBuf c = Chunks.chunk(input, range[0], range[1], Kind.HEAP);
      inputs.add(c);
      tap.onChunk(c, out);
      assertThat(out).isEmpty();
    }
    tap.release();
    Chunks.assertAllReleased(inputs);
  }

  @Test
  void releaseWhenNotStrippingHoldsNothing() {
    byte[] input = Chunks.resource(OPENAI);
    UsageTap tap = sse(false, MAX_EVENT);
    List<ByteBuf> out = new ArrayList<>();
    ByteBuf c = Chunks.chunk(input, 0, 700, Kind.DIRECT);
    tap.onChunk(c, out);
    assertThat(out).containsExactly(c);
    out.remove(0).release();
    tap.release();
    assertThat(c.refCnt()).isZero();
  }

  @Test
  void anIncompleteFinalEventIsForwardedAsIsAndStillRead() {
    String stream = content("x") + USAGE_ONLY.strip(); // the stream ends without the blank line
    for (boolean strip : new boolean[] {true, false}) {
      for (int[] cuts : Chunks.everySplit(stream.length())) {
        UsageTap tap = sse(strip, MAX_EVENT);
        Result r = Chunks.run(tap, utf8(stream), cuts, Kind.COMPOSITE);
        assertThat(r.string()).isEqualTo(stream);
        assertThat(tap.usage()).isEqualTo(new TokenUsage(10, 3, 2, false));
        assertThat(tap.sawDone()).isFalse();
      }
    }
  }

  // ------------------------------------------------------------------ oversize events

  @Test
  void eventsAboveTheCapAreForwardedAsIsTheUsageEventToo() {
    byte[] input = Chunks.resource(OPENAI); // every event is ~400 bytes
    for (int size : new int[] {1, 7, 50, 99}) {
      int[] cuts = java.util.stream.IntStream.iterate(size, i -> i < input.length, i -> i + size).toArray();
      UsageTap tap = sse(true, 100);
      Result r = Chunks.run(tap, input, cuts, Kind.DIRECT);
      // the usage event is above the cap too: too long to be read, so never stripped
      assertThat(r.bytes()).as("chunks of %d", size).isEqualTo(input);
      assertThat(tap.sawDone()).isTrue();
    }
  }

  @Test
  void stripsBeforeAndAfterAnEventAboveTheCap() {
    String big = content("y".repeat(500));
    String stream = content("a") + USAGE_ONLY + big + content("b") + USAGE_ONLY + "data: [DONE]\n\n";
    byte[] input = utf8(stream);
    int midBig = stream.indexOf(big) + 400; // 400 bytes of an unfinished event: above the cap
    UsageTap tap = sse(true, 300);
    Result r = Chunks.run(tap, input, new int[] {midBig}, Kind.DIRECT);
    // the big event is forwarded as it comes; the usage-only event after it is still stripped (issue 18.5:
    // it used to leak to a client that never asked for usage)
    assertThat(r.string()).isEqualTo(content("a") + big + content("b") + "data: [DONE]\n\n");
    assertThat(tap.generatedText()).isEqualTo("ab"); // the big event's line is above the cap: not read
  }

  @Test
  void anEventAboveTheCapInOneChunkIsNotHeldSoStrippingGoesOn() {
    String big = content("z".repeat(5000));
    String stream = big + USAGE_ONLY + "data: [DONE]\n\n";
    UsageTap tap = sse(true, 1000);
    Result r = Chunks.run(tap, utf8(stream), new int[] {big.length() + 5}, Kind.HEAP);
    assertThat(r.string()).isEqualTo(big + "data: [DONE]\n\n");
    assertThat(tap.usage()).isEqualTo(new TokenUsage(10, 3, 2, false));
  }

  @Test
  void anEventWhoseBeginningWentPastTheCapIsNeverCutInHalf() {
    // a usage-only event made large by other lines: once its beginning was forwarded (past the cap), its
    // end must be forwarded too, or the client gets half an event glued to the next one
    String padded = "event: usage\n" + ": pad\n".repeat(60) + USAGE_ONLY;
    String stream = content("a") + padded + "data: [DONE]\n\n";
    assertThat(padded.length()).isGreaterThan(300);
    int[] cuts = {content("a").length() + 301, content("a").length() + padded.length() - 5};
    for (Kind kind : Kind.values()) {
      UsageTap tap = sse(true, 300);
      Result r = Chunks.run(tap, utf8(stream), cuts, kind);
      assertThat(r.string()).as(kind.name()).isEqualTo(stream);
      assertThat(tap.usage()).isEqualTo(new TokenUsage(10, 3, 2, false));
      assertThat(tap.sawDone()).isTrue();
    }
    // the same event under the cap is stripped
    UsageTap tap = sse(true, 1000);
    assertThat(Chunks.run(tap, utf8(stream), cuts, Kind.DIRECT).string()).isEqualTo(content("a") + "data: [DONE]\n\n");
  }

  @Test
  void aLineAboveTheCapIsNotRead() {
    // the cap bounds the bytes copied to read one line: a longer line is forwarded, not read
    String stream = USAGE_ONLY + content("k");
    int cap = content("k").length() + 5;
    assertThat(USAGE_ONLY.length()).isGreaterThan(cap);
    UsageTap tap = sse(false, cap);
    Result r = Chunks.run(tap, utf8(stream), new int[] {20}, Kind.DIRECT);
    assertThat(r.string()).isEqualTo(stream);
    assertThat(tap.usage()).isNull();
    assertThat(tap.generatedText()).isEqualTo("k"); // a later line is read again
  }

  // ------------------------------------------------------------------ the SSE format

  @Test
  void doneIsDetectedInItsForms() {
    for (String done : List.of("data: [DONE]\n\n", "data:[DONE]\n\n", "data: [DONE]\r\n\r\n", "data: [DONE]")) {
      String stream = content("a") + done;
      for (int[] cuts : Chunks.everySplit(stream.length())) {
        UsageTap tap = sse(true, MAX_EVENT);
        Result r = Chunks.run(tap, utf8(stream), cuts, Kind.DIRECT);
        assertThat(r.string()).isEqualTo(stream);
        assertThat(tap.sawDone()).as(done).isTrue();
      }
    }
    for (String notDone : List.of("", "data: {\"x\":\"[DONE]\"}\n\n", "data: [DONE]x\n\n", ": [DONE]\n\n")) {
      UsageTap tap = sse(false, MAX_EVENT);
      Chunks.run(tap, utf8(content("a") + notDone), new int[0], Kind.DIRECT);
      assertThat(tap.sawDone()).as(notDone).isFalse();
    }
  }

  @Test
  void otherFieldsAndCommentsTravelWithTheirEvent() {
    String usageEvent = "event: message\r\nid: 7\r\n" + USAGE_ONLY.replace("\n", "\r\n");
    String stream = ": keep-alive\n\n" + content("a") + ": ping\n\n" + usageEvent + "retry: 10\n\ndata: [DONE]\n\n";
    for (int[] cuts : Chunks.everySplit(stream.length())) {
      UsageTap tap = sse(true, MAX_EVENT);
      Result r = Chunks.run(tap, utf8(stream), cuts, Kind.HEAP);
      assertThat(r.string()).isEqualTo(": keep-alive\n\n" + content("a") + ": ping\n\nretry: 10\n\ndata: [DONE]\n\n");
      assertThat(tap.usage()).isEqualTo(new TokenUsage(10, 3, 2, false));
    }
  }

  @Test
  void onlyAnEventWhoseChoicesIsAnEmptyArrayIsStripped() {
    List<String> kept = List.of(
        // llama.cpp style: usage on the chunk with the finish reason
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":4,"
            + "\"completion_tokens\":5,\"total_tokens\":9}}\n\n",
        // no choices key at all
        "data: {\"id\":\"c\",\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":5,\"total_tokens\":9}}\n\n",
        // choices null
        "data: {\"choices\":null,\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":5,\"total_tokens\":9}}\n\n",
        // usage null
        "data: {\"choices\":[],\"usage\":null}\n\n",
        // a usage key, but not at the top level
        "data: {\"choices\":[],\"x\":{\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":5}}}\n\n",
        // two data lines in one event (one JSON value spread over them)
        "data: {\"choices\":[],\ndata: \"usage\":{\"prompt_tokens\":4,\"completion_tokens\":5,\"total_tokens\":9}}\n\n",
        // not JSON
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":4,}\n\n");
    for (String ev : kept) {
      String stream = content("a") + ev + "data: [DONE]\n\n";
      UsageTap tap = sse(true, MAX_EVENT);
      Result r = Chunks.run(tap, utf8(stream), new int[0], Kind.DIRECT);
      assertThat(r.string()).as(ev).isEqualTo(stream);
    }
    String spaced = "data:  { \"choices\" : [ ] , \"usage\" : { \"prompt_tokens\" : 4 , \"completion_tokens\" : 5 } }  \n\n";
    UsageTap tap = sse(true, MAX_EVENT);
    Result r = Chunks.run(tap, utf8(content("a") + spaced), new int[0], Kind.DIRECT);
    assertThat(r.string()).isEqualTo(content("a"));
    assertThat(tap.usage()).isEqualTo(new TokenUsage(4, 5, 0, false));
  }

  @Test
  void aNestedUsageKeyIsNotTheUsage() {
    String stream = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"{\\\"usage\\\":{\\\"prompt_tokens\\\":9}}\"},"
        + "\"usage\":{\"prompt_tokens\":99,\"completion_tokens\":99}}],\"x\":{\"usage\":{\"prompt_tokens\":98}}}\n\n";
    UsageTap tap = sse(true, MAX_EVENT);
    Result r = Chunks.run(tap, utf8(stream), new int[0], Kind.DIRECT);
    assertThat(r.string()).isEqualTo(stream);
    assertThat(tap.usage()).isNull();
    assertThat(tap.generatedText()).isEqualTo("{\"usage\":{\"prompt_tokens\":9}}");
  }

  @Test
  void theLastReportedUsageWins() {
    // vLLM with continuous_usage_stats: cumulative usage on every chunk, then the usage-only one
    String stream = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}],\"usage\":{\"prompt_tokens\":7,"
        + "\"completion_tokens\":1,\"total_tokens\":8}}\n\n"
        + "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"}}],\"usage\":{\"prompt_tokens\":7,"
        + "\"completion_tokens\":2,\"total_tokens\":9}}\n\n"
        + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,\"total_tokens\":9}}\n\n"
        + "data: [DONE]\n\n";
    UsageTap tap = sse(true, MAX_EVENT);
    Result r = Chunks.run(tap, utf8(stream), new int[] {50, 150}, Kind.OFFSET);
    assertThat(r.string()).isEqualTo(SseOracle.stripped(stream)).doesNotContain("\"choices\":[]");
    assertThat(tap.usage()).isEqualTo(new TokenUsage(7, 2, 0, false));
    assertThat(tap.generatedText()).isEqualTo("ab");
  }

  @Test
  void aMalformedEventDoesNotDisturbTheNextOnes() {
    String stream = content("a")
        + "data: {\"choices\":[{\"delta\":{\"content\":\"bad\"}}],\"oops\":}\n\n"   // parse error
        + "data: {\"choices\":[{\"delta\":{\"content\":\"half\"}\n\n"               // not one object
        + "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}{\"choices\":[]}\n\n" // two values
        + content("b") + USAGE_ONLY + "data: [DONE]\n\n";
    for (int[] cuts : Chunks.everySplit(stream.length())) {
      UsageTap tap = sse(true, MAX_EVENT);
      Result r = Chunks.run(tap, utf8(stream), cuts, Kind.DIRECT);
      assertThat(r.string()).isEqualTo(stream.replace(USAGE_ONLY, ""));
      assertThat(tap.usage()).isEqualTo(new TokenUsage(10, 3, 2, false));
      assertThat(tap.generatedText()).startsWith("a").endsWith("b");
    }
  }

  @Test
  void toolCallArgumentsReasoningAndLegacyTextAreCaptured() {
    String stream = "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"think \"}}]}\n\n"
        + "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\","
        + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\"}}]}}]}\n\n"
        + "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}}]}\n\n"
        + "data: {\"choices\":[{\"index\":0,\"text\":\" legacy\",\"logprobs\":null}],\"object\":\"text_completion\"}\n\n"
        + "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"}}]}\n\n";
    UsageTap tap = sse(false, MAX_EVENT);
    Chunks.run(tap, utf8(stream), new int[] {33}, Kind.DIRECT);
    assertThat(tap.generatedText()).isEqualTo("think {\"city\":\"Paris\"} legacy");
  }

  @Test
  void capturedTextIsCappedAndUsageIsStillReadAfterTheCap() {
    StringBuilder s = new StringBuilder();
    String piece = "0123456789abcdef".repeat(64); // 1 KiB per event
    for (int i = 0; i < 70; i++) {
      s.append(content(piece));
    }
    s.append(USAGE_ONLY).append("data: [DONE]\n\n");
    UsageTap tap = sse(true, MAX_EVENT);
    Random random = new Random(7);
    Result r = Chunks.run(tap, utf8(s.toString()), Chunks.randomCuts(random, s.length(), 300), random);
    assertThat(r.string()).isEqualTo(s.toString().replace(USAGE_ONLY, ""));
    assertThat(tap.generatedText()).hasSize(64 * 1024).isEqualTo(piece.repeat(64));
    assertThat(tap.generatedTextTruncated()).isTrue();
    assertThat(tap.usage()).isEqualTo(new TokenUsage(10, 3, 2, false));
  }

  @Test
  void deferredTextComesBackInOrderOnEitherSideOfTheHoldingCap() {
    // text-bearing lines are held raw and parsed only when the text is asked for; past
    // SseEventReader.HOLD_CAP bytes they are parsed at once and the rest as it passes. Either way the text is
    // the same, in order, including the text of a llama.cpp-style last event that also carries usage.
    String llamaLast = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" END\"},\"finish_reason\":\"stop\"}],"
        + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12}}\n\n";
    for (int events : new int[] {1, 3, 250, 300, 330, 700}) {
      StringBuilder s = new StringBuilder();
      for (int i = 0; i < events; i++) {
        s.append(content("w" + i + " \\\"q\\\" \\u00e9 "));
      }
      for (String end : new String[] {"", llamaLast, USAGE_ONLY}) {
        String stream = s + end + "data: [DONE]\n\n";
        UsageTap tap = sse(false, MAX_EVENT);
        Random random = new Random(events);
        Chunks.run(tap, utf8(stream), Chunks.randomCuts(random, stream.length(), 20), random);
        String where = events + " events, end " + end.length();
        assertThat(tap.generatedText()).as(where).isEqualTo(SseOracle.text(stream));
        assertThat(tap.generatedTextTruncated()).as(where).isFalse();
        assertThat(tap.usage()).as(where).isEqualTo(end.isEmpty() ? null
            : end == llamaLast ? new TokenUsage(5, 7, 0, false) : new TokenUsage(10, 3, 2, false));
      }
    }
  }

  @Test
  void heldTextIsReadableUntilTheRelease() {
    UsageTap tap = sse(true, MAX_EVENT);
    List<ByteBuf> out = new ArrayList<>();
    ByteBuf c = Chunks.chunk(utf8(content("hello") + content(" world") + "data: {\"choices\":[{\"delta\":"), 0,
        utf8(content("hello") + content(" world") + "data: {\"choices\":[{\"delta\":").length, Kind.DIRECT);
    tap.onChunk(c, out);
    out.forEach(ByteBuf::release);
    // client gone mid-stream: charged for what passed, read before the release (ResponseRelay.recordUsage)
    assertThat(tap.generatedText()).isEqualTo("hello world");
    assertThat(tap.generatedText()).isEqualTo("hello world");
    tap.release();
    assertThat(tap.generatedText()).as("parsed before the release: kept").isEqualTo("hello world");
    assertThat(tap.usage()).isNull();
  }

  @Test
  void theCapNeverSplitsASurrogatePair() {
    String pad = "p".repeat(64 * 1024 - 1);
    String stream = content(pad + "\uD83D\uDE00") + content("more");
    UsageTap tap = sse(false, 256 * 1024);
    Chunks.run(tap, utf8(stream), new int[0], Kind.DIRECT);
    assertThat(tap.generatedText()).isEqualTo(pad);
    assertThat(tap.generatedTextTruncated()).isTrue();
  }

  @Test
  void passThroughScansNothing() {
    byte[] input = Chunks.resource(OPENAI);
    UsageTap tap = UsageTap.passThrough();
    List<ByteBuf> out = new ArrayList<>();
    ByteBuf c = Chunks.chunk(input, 0, input.length, Kind.DIRECT);
    tap.onChunk(c, out);
    assertThat(out).containsExactly(c);
    out.remove(0).release();
    tap.onEnd(out);
    assertThat(out).isEmpty();
    assertThat(tap.usage()).isNull();
    assertThat(tap.generatedText()).isEmpty();
    assertThat(tap.sawDone()).isFalse();
  }
}
