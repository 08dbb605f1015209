package dev.llmgw.core.upstream.inprocess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.config.InProcessSpec;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.upstream.Transport;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The in-process backend's server side over real in-VM channels (the gateway's middle test layer for
 * it: no sockets, no model — a {@link ScriptedEngine}): refusals, the sequence limit and its queue,
 * flow control, cancellation, and what the answers look like.
 */
class InferenceServerTest {
  private static final AtomicInteger ADDRESSES = new AtomicInteger();
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, Transport.nio().ioHandlerFactory());
  private InferenceServer server;
  private ScriptedEngine engine;

  private InferenceServer start(int context, int length, int sequences, int queue) throws InterruptedException {
    engine = new ScriptedEngine(context, length);
    server = InferenceServer.start("t", InProcessSpec.of(Path.of("x.gguf"), context, 1, sequences, queue), engine,
        new LocalAddress("inference-server-test-" + ADDRESSES.incrementAndGet()), group);
    return server;
  }

  private InVmClient client(boolean credits) throws InterruptedException {
    return new InVmClient(group, server.address(), credits);
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (engine != null) {
      engine.release();
    }
    if (server != null) {
      server.close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  private static JsonNode json(String s) throws Exception {
    return RequestParser.JSON.readTree(s);
  }

  @Test
  void aChatIsAPlainTranscriptAndItsAnswerCarriesUsage() throws Exception {
    start(1000, 5, 1, 1);
    try (InVmClient c = client(true)) {
      InVmClient.Answer a = c.call("/v1/chat/completions", "{\"model\":\"stories\",\"max_tokens\":10,\"messages\":["
          + "{\"role\":\"system\",\"content\":\"Be kind.\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\","
          + "\"text\":\"Hi there\"}]}]}");

      assertThat(a.status()).isEqualTo(200);
      assertThat(a.head().headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("application/json");
      assertThat(a.head()).as("a head and a last chunk, as a TCP backend's codec delivers them")
          .isNotInstanceOf(FullHttpResponse.class);
      JsonNode j = json(a.body());
      assertThat(j.get("object").asText()).isEqualTo("chat.completion");
      assertThat(j.get("model").asText()).isEqualTo("stories");
      assertThat(j.at("/choices/0/message/role").asText()).isEqualTo("assistant");
      assertThat(j.at("/choices/0/message/content").asText()).isEqualTo("w0 w1 w2 w3 w4");
      assertThat(j.at("/choices/0/message/refusal").isNull()).isTrue();
      assertThat(j.at("/choices/0/finish_reason").asText()).as("ended before max_tokens").isEqualTo("stop");
      // "Be kind.\n\nUser: Hi there\nAssistant:" is 6 words, plus the start token
      assertThat(j.at("/usage/prompt_tokens").asInt()).isEqualTo(7);
      assertThat(j.at("/usage/completion_tokens").asInt()).isEqualTo(5);
      assertThat(j.at("/usage/total_tokens").asInt()).isEqualTo(12);
      InferenceEngine.Params p = engine.asked.get(0);
      assertThat(p.prompt()).isEqualTo("Be kind.\n\nUser: Hi there\nAssistant:");
      assertThat(p.stop()).containsExactly(ChatPrompts.STOP);
      assertThat(p.maxTokens()).isEqualTo(10);
    }
  }

  @Test
  void aStreamIsEventsEndingWithTheFinishReasonUsageAndDone() throws Exception {
    start(1000, 50, 1, 1);
    try (InVmClient c = client(true)) {
      InVmClient.Answer a = c.call("/v1/completions", "{\"model\":\"stories\",\"prompt\":\"Once upon\",\"max_tokens\":3,"
          + "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"temperature\":0.5,\"seed\":7,"
          + "\"stop\":\"The end\"}");

      assertThat(a.head().headers().get(HttpHeaderNames.CONTENT_TYPE)).startsWith("text/event-stream");
      assertThat(a.body()).endsWith("data: [DONE]\n\n");
      String[] events = a.body().split("\n\n");
      JsonNode last = json(events[events.length - 3].substring("data: ".length()));
      assertThat(last.at("/choices/0/finish_reason").asText()).isEqualTo("length");
      JsonNode usage = json(events[events.length - 2].substring("data: ".length()));
      assertThat(usage.get("choices")).isEmpty();
      assertThat(usage.at("/usage/prompt_tokens").asInt()).isEqualTo(3);
      assertThat(usage.at("/usage/completion_tokens").asInt()).isEqualTo(3);
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < events.length - 3; i++) {
        text.append(json(events[i].substring("data: ".length())).at("/choices/0/text").asText());
      }
      assertThat(text).hasToString("w0 w1 w2");
      InferenceEngine.Params p = engine.asked.get(0);
      assertThat(p.temperature()).isEqualTo(0.5f);
      assertThat(p.seed()).isEqualTo(7);
      assertThat(p.stop()).containsExactly("The end");
    }
  }

  @Test
  void whatTheModelCannotServeIsRefusedAsAWholeJsonError() throws Exception {
    start(1000, 5, 1, 1);
    try (InVmClient c = client(true)) {
      InVmClient.Answer n2 = c.call("/v1/chat/completions", "{\"n\":2,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
      assertThat(n2.status()).isEqualTo(400);
      assertThat(json(n2.body()).at("/error/param").asText()).isEqualTo("n");
      assertThat(n2.head().headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(n2.body().length());

      InVmClient.Answer image = c.call("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":"
          + "[{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://x/y.png\"}}]}]}");
      assertThat(image.status()).isEqualTo(400);
      assertThat(json(image.body()).at("/error/param").asText()).isEqualTo("messages[0].content");

      assertThat(c.call("/v1/chat/completions", "{not json").status()).isEqualTo(400);
      assertThat(c.call("/v1/embeddings", "{\"input\":\"x\"}").status()).isEqualTo(404);
      assertThat(engine.asked).as("none reached the model").isEmpty();
      // the connection still serves
      assertThat(c.call("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":2}").status()).isEqualTo(200);
    }
  }

  @Test
  void aPromptBeyondTheContextIsAnOpenAiShaped400() throws Exception {
    start(10, 5, 1, 1);
    try (InVmClient c = client(true)) {
      InVmClient.Answer a = c.call("/v1/completions", "{\"prompt\":\"one two three four five six seven eight nine"
          + " ten\",\"max_tokens\":2}");
      assertThat(a.status()).isEqualTo(400);
      JsonNode e = json(a.body()).get("error");
      assertThat(e.get("code").asText()).isEqualTo("context_length_exceeded");
      assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
      assertThat(e.get("message").asText()).isEqualTo("This model's maximum context length is 10 tokens. However,"
          + " you requested 13 tokens (11 in the prompt, 2 in the completion). Please reduce the length of the"
          + " prompt or completion.");

      InVmClient.Answer tooMany = c.call("/v1/completions", "{\"prompt\":\"one two\",\"max_tokens\":8}");
      assertThat(tooMany.status()).as("3 + 8 > 10").isEqualTo(400);
      InVmClient.Answer fits = c.call("/v1/completions", "{\"prompt\":\"one two\"}");
      assertThat(fits.status()).isEqualTo(200);
      assertThat(engine.asked).extracting(InferenceEngine.Params::maxTokens).as("the rest of the context")
          .containsExactly(7);
      await().atMost(Duration.ofSeconds(1)).until(() -> server.generating() == 0);
    }
  }

  @Test
  void beyondTheSequencesAndTheQueueARequestIs429AndNoneIsLost() throws Exception {
    start(1000, 5, 1, 1);
    engine.hold();
    try (InVmClient a = client(true); InVmClient b = client(true); InVmClient c = client(true)) {
      CompletableFuture<InVmClient.Answer> first = a.send("/v1/completions", "{\"prompt\":\"a\"}");
      await().atMost(Duration.ofSeconds(2)).until(() -> server.generating() == 1);
      CompletableFuture<InVmClient.Answer> second = b.send("/v1/completions", "{\"prompt\":\"b\"}");
      await().atMost(Duration.ofSeconds(2)).until(() -> server.queued() == 1);

      InVmClient.Answer third = c.call("/v1/completions", "{\"prompt\":\"c\"}");
      assertThat(third.status()).isEqualTo(429);
      JsonNode e = json(third.body()).get("error");
      assertThat(e.get("type").asText()).isEqualTo("rate_limit_error");
      assertThat(e.get("message").asText()).contains("1 sequences are generating and its queue of 1 is full");

      engine.release();
      assertThat(first.get(5, TimeUnit.SECONDS).status()).isEqualTo(200);
      assertThat(second.get(5, TimeUnit.SECONDS).status()).isEqualTo(200);
      assertThat(c.call("/v1/completions", "{\"prompt\":\"c\"}").status()).as("places came back").isEqualTo(200);
    }
  }

  @Test
  void theWorkerStopsPullingTokensWhileTheGatewaySideIsBehind() throws Exception {
    start(1_000_000, 100_000, 1, 1);
    try (InVmClient c = client(false)) { // never credits
      c.send("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":100000,\"stream\":true}");
      await().atMost(Duration.ofSeconds(5)).until(() -> engine.pulled.get() > 0);
      int[] seen = {-1};
      await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(200)).until(() -> {
        int now = engine.pulled.get();
        boolean still = now == seen[0];
        seen[0] = now;
        return still;
      });
      // a window of chunks of at most ~1 KiB of text each, then ~1 KiB waiting: some 17 KiB of 100,000 tokens
      int chars = ScriptedEngine.text(engine.pulled.get()).length();
      assertThat(chars).isLessThanOrEqualTo((InferenceHandler.WINDOW + 2) * (InferenceHandler.MAX_PENDING_CHARS + 8));
      assertThat(engine.pulled.get()).isLessThan(10_000);
      assertThat(server.generating()).isEqualTo(1);

      c.channel.writeAndFlush(new Credit(1_000_000)); // the gateway catches up
      await().atMost(Duration.ofSeconds(5)).until(() -> engine.pulled.get() > seen[0] + 100);
    }
  }

  @Test
  void closingTheConnectionStopsTheGenerationAndDropsAQueuedRequest() throws Exception {
    start(1_000_000, 1_000_000, 1, 2);
    engine.tokenDelayMicros = 200;
    InVmClient running = client(true);
    running.send("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":900000,\"stream\":true}");
    await().atMost(Duration.ofSeconds(2)).until(() -> engine.pulled.get() > 20);
    InVmClient waiting = client(true);
    CompletableFuture<InVmClient.Answer> queued = waiting.send("/v1/completions", "{\"prompt\":\"y\"}");
    await().atMost(Duration.ofSeconds(2)).failFast(() -> queued.isDone()).until(() -> server.queued() == 1);

    waiting.close();
    await().atMost(Duration.ofSeconds(1)).until(() -> server.queued() == 0);
    running.close();
    await().atMost(Duration.ofSeconds(1)).until(() -> server.generating() == 0 && engine.running.get() == 0);
    assertThat(engine.cancelled.get()).isEqualTo(1);
    assertThat(engine.asked).as("the queued request never reached the model").hasSize(1);

    engine.tokenDelayMicros = 0;
    try (InVmClient next = client(true)) {
      assertThat(next.call("/v1/completions", "{\"prompt\":\"z\",\"max_tokens\":3}").status())
          .as("its sequence and both places are free").isEqualTo(200);
    }
  }
}
