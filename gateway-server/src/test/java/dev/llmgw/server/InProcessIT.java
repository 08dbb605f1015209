package dev.llmgw.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.Failover;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.InProcessSpec;
import dev.llmgw.core.config.Limits;
import dev.llmgw.core.config.ListenerSpec;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.config.Resilience;
import dev.llmgw.core.config.Timeouts;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.log.RequestLog;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.core.upstream.inprocess.InferenceServer;
import dev.llmgw.server.conformance.OpenAiSchemas;
import dev.llmgw.testkit.LlamaServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The in-process backend end to end: the TinyStories model ({@code ../shared/llama/models/stories260K.gguf})
 * run inside the gateway with llama.cpp, called through the official OpenAI Java SDK and raw HTTP —
 * plain and streamed chat and completions, usage, the sequence limit with its queue, a client that
 * leaves mid-stream, a context overflow. The request path is the HTTP backends' one: the access log
 * record, metrics and headers are checked too. Paranoid leak detection runs throughout.
 *
 * <p>Backends: {@code tiny} (2 sequences, queue 30: every one of 32 clients waits its turn),
 * {@code solo} (1 sequence, a long context: for the client that leaves), {@code small} (context 64:
 * overflow).
 */
class InProcessIT {
  static final Path STORIES = LlamaServer.stories();
  static GatewayServer gw;
  static OpenAIClient sdk;
  /** Without the SDK's strict response validation (see the streamed completions). */
  static OpenAIClient lenient;
  static final List<RequestLog> logs = new CopyOnWriteArrayList<>();
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  static Timeouts timeouts() {
    return new Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(60));
  }

  static GatewayConfig config() {
    Map<String, BackendSpec> backends = new LinkedHashMap<>();
    backends.put("tiny", BackendSpec.inProcess("tiny", InProcessSpec.of(STORIES, 512, 1, 2, 30), List.of("stories"),
        timeouts(), Resilience.defaults()));
    backends.put("solo", BackendSpec.inProcess("solo", InProcessSpec.of(STORIES, 16384, 1, 1, 4),
        List.of("stories"), timeouts(), Resilience.defaults()));
    backends.put("small", BackendSpec.inProcess("small", InProcessSpec.of(STORIES, 64, 1, 1, 4), List.of("stories"),
        timeouts(), Resilience.defaults()));
    Map<String, ModelAlias> models = new LinkedHashMap<>();
    models.put("tiny", new ModelAlias("tiny", "tiny", "stories", "local", 512));
    models.put("solo", new ModelAlias("solo", "solo", "stories", "local", 16384));
    models.put("small", new ModelAlias("small", "small", "stories", "local", 64));
    return new GatewayConfig(null, new ListenerSpec("127.0.0.1", 0), Limits.defaults(), backends, models,
        Failover.defaults());
  }

  @BeforeAll
  static void start() throws Exception {
    gw = new GatewayServer(config(), Transport.best(), 2, logs::add).start();
    sdk = OpenAIOkHttpClient.builder().baseUrl(base()).apiKey("sk-any").maxRetries(0)
        .timeout(Duration.ofSeconds(60)).responseValidation(true).build();
    lenient = OpenAIOkHttpClient.builder().baseUrl(base()).apiKey("sk-any").maxRetries(0)
        .timeout(Duration.ofSeconds(60)).build();
  }

  @AfterAll
  static void stop() {
    if (sdk != null) {
      sdk.close();
      lenient.close();
    }
    if (gw != null) {
      gw.stop(Duration.ofSeconds(2));
    }
  }

  static String base() {
    return "http://127.0.0.1:" + gw.port() + "/v1";
  }

  static HttpResponse<String> post(String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(base() + path)).header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static InferenceServer server(String backend) {
    return gw.inProcess().server(backend).orElseThrow();
  }

  /** The access-log record of the request with this id (each request's log ends once). */
  static RequestLog logOf(String requestId) {
    await().atMost(Duration.ofSeconds(5)).until(() -> logs.stream().anyMatch(l -> requestId.equals(l.requestId())));
    return logs.stream().filter(l -> requestId.equals(l.requestId())).findFirst().orElseThrow();
  }

  // ---------------------------------------------------------------------------------------------------------
  // plain and streamed, through the SDK

  @Test
  void aPlainChatCompletionThroughTheSdk() {
    ChatCompletion c = sdk.chat().completions().create(ChatCompletionCreateParams.builder().model("tiny")
        .addSystemMessage("You tell stories to children.").addUserMessage("Tell me about a girl and a ball.")
        .maxCompletionTokens(24L).temperature(0.0).build());

    assertThat(c.model()).isEqualTo("stories");
    assertThat(c.choices()).hasSize(1);
    assertThat(c.choices().get(0).message().content()).hasValueSatisfying(t -> assertThat(t).isNotBlank());
    CompletionUsage u = c.usage().orElseThrow();
    assertThat(u.promptTokens()).isPositive();
    assertThat(u.completionTokens()).isBetween(1L, 24L);
    assertThat(u.totalTokens()).isEqualTo(u.promptTokens() + u.completionTokens());
  }

  @Test
  void aStreamedChatCompletionThroughTheSdkEndsWithItsUsage() {
    ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("tiny")
        .addUserMessage("Once upon a time there was a dog.").maxCompletionTokens(32L).temperature(0.0)
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
    List<ChatCompletionChunk> chunks;
    try (StreamResponse<ChatCompletionChunk> s = sdk.chat().completions().createStreaming(params)) {
      chunks = s.stream().collect(Collectors.toList());
    }

    String text = chunks.stream().flatMap(ch -> ch.choices().stream())
        .map(ch -> ch.delta().content().orElse("")).collect(Collectors.joining());
    assertThat(text).isNotBlank();
    assertThat(chunks.get(0).choices().get(0).delta().role()).isPresent();
    ChatCompletionChunk last = chunks.get(chunks.size() - 1);
    assertThat(last.choices()).isEmpty();
    CompletionUsage streamed = last.usage().orElseThrow();

    // the same request, plain: the same text (greedy) and the same usage
    ChatCompletion plain = sdk.chat().completions().create(params.toBuilder().streamOptions(
        java.util.Optional.empty()).build());
    assertThat(plain.choices().get(0).message().content()).hasValue(text);
    assertThat(plain.usage().orElseThrow().promptTokens()).isEqualTo(streamed.promptTokens());
    assertThat(plain.usage().orElseThrow().completionTokens()).isEqualTo(streamed.completionTokens());
  }

  @Test
  void plainAndStreamedCompletionsThroughTheSdk() {
    Completion c = sdk.completions().create(CompletionCreateParams.builder().model("tiny")
        .prompt("Once upon a time").maxTokens(40L).temperature(0.0).build());
    String text = c.choices().get(0).text();
    assertThat(text).isNotBlank();
    assertThat(c.choices().get(0).finishReason()).isEqualTo(
        com.openai.models.completions.CompletionChoice.FinishReason.LENGTH);
    assertThat(c.usage().orElseThrow().promptTokens()).as("4 tokens and <s>").isEqualTo(5L);
    assertThat(c.usage().orElseThrow().completionTokens()).isEqualTo(40L);

    // a completions stream carries "finish_reason": null until its last chunk, as OpenAI's and llama-server's
    // do; the SDK's Completion type requires a finish reason, so its strict validation would refuse every
    // chunk but the last: this client reads the stream without it
    List<Completion> chunks;
    try (StreamResponse<Completion> s = lenient.completions().createStreaming(CompletionCreateParams.builder()
        .model("tiny").prompt("Once upon a time").maxTokens(40L).temperature(0.0).build())) {
      chunks = s.stream().collect(Collectors.toList());
    }
    String streamed = chunks.stream().flatMap(ch -> ch.choices().stream()).map(ch -> ch.text())
        .collect(Collectors.joining());
    assertThat(streamed).isEqualTo(text);
    assertThat(chunks).as("the client did not ask for usage: the gateway's usage chunk is stripped")
        .allSatisfy(ch -> assertThat(ch.usage()).isEmpty());
  }

  @Test
  void bodiesAndEventsConformToTheOpenAiSpecAndTheRequestPathRecordsThem() throws Exception {
    HttpResponse<String> plain = post("/chat/completions", "{\"model\":\"tiny\",\"max_tokens\":12,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}");
    assertThat(plain.statusCode()).isEqualTo(200);
    assertThat(plain.headers().firstValue("x-gateway-backend")).hasValue("tiny");
    assertThat(plain.headers().firstValue("x-gateway-attempts")).hasValue("1");
    OpenAiSchemas.assertValid(OpenAiSchemas.CHAT_COMPLETION_RESPONSE, plain.body());
    JsonNode json = RequestParser.JSON.readTree(plain.body());
    RequestLog log = logOf(plain.headers().firstValue("x-request-id").orElseThrow());
    assertThat(log.backend()).isEqualTo("tiny");
    assertThat(log.status()).isEqualTo(200);
    assertThat(log.usageEstimated()).as("the model's own counts").isFalse();
    assertThat(log.promptTokens()).isEqualTo(json.at("/usage/prompt_tokens").asLong());
    assertThat(log.completionTokens()).isEqualTo(json.at("/usage/completion_tokens").asLong());

    HttpResponse<String> stream = post("/chat/completions", "{\"model\":\"tiny\",\"max_tokens\":12,\"stream\":true,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}");
    assertThat(stream.statusCode()).isEqualTo(200);
    assertThat(stream.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
    OpenAiSchemas.assertSseStreamValid(OpenAiSchemas.CHAT_COMPLETION_CHUNK, stream.body());
    assertThat(stream.body()).as("usage the client did not ask for is stripped").doesNotContain("\"usage\"");
    RequestLog streamLog = logOf(stream.headers().firstValue("x-request-id").orElseThrow());
    assertThat(streamLog.usageEstimated()).as("the gateway asked for usage and metered it").isFalse();
    assertThat(streamLog.completionTokens()).isEqualTo(12);

    HttpResponse<String> completion = post("/completions", "{\"model\":\"tiny\",\"max_tokens\":8,"
        + "\"prompt\":\"Once upon a time\"}");
    OpenAiSchemas.assertValid(OpenAiSchemas.COMPLETION_RESPONSE, completion.body());

    String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/metrics"))
        .build(), HttpResponse.BodyHandlers.ofString()).body();
    assertThat(metrics).contains("gateway_inprocess_sequences_active{backend=\"tiny\"}")
        .contains("gateway_inprocess_queue{backend=\"tiny\"}")
        .containsPattern("gateway_backend_attempts_total\\{backend=\"tiny\"");
  }

  // ---------------------------------------------------------------------------------------------------------
  // capacity, cancellation, bad requests

  @Test
  void thirtyTwoClientsShareTwoSequencesAndNoneIsLost() throws Exception {
    InferenceServer tiny = server("tiny");
    AtomicInteger most = new AtomicInteger();
    var watcher = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    watcher.scheduleAtFixedRate(() -> most.accumulateAndGet(tiny.generating(), Math::max), 0, 1, TimeUnit.MILLISECONDS);
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    try {
      for (int i = 0; i < 32; i++) {
        String body = "{\"model\":\"tiny\",\"max_tokens\":48,\"stream\":" + (i % 2 == 0) + ",\"messages\":"
            + "[{\"role\":\"user\",\"content\":\"Tell story number " + i + "\"}]}";
        all.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create(base() + "/chat/completions"))
            .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      int ok = 0;
      for (CompletableFuture<HttpResponse<String>> f : all) {
        HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-gateway-backend")).hasValue("tiny");
        assertThat(r.headers().firstValue("x-gateway-fallback")).isEmpty();
        if (r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream")) {
          assertThat(r.body()).as("a whole stream").endsWith("data: [DONE]\n\n").doesNotContain("\"error\"");
        } else {
          assertThat(RequestParser.JSON.readTree(r.body()).at("/usage/completion_tokens").asInt()).isEqualTo(48);
        }
        ok++;
      }
      assertThat(ok).isEqualTo(32);
    } finally {
      watcher.shutdownNow();
    }
    assertThat(most.get()).as("never more sequences than maxSequences").isBetween(1, 2);
    await().atMost(Duration.ofSeconds(2)).until(() -> tiny.generating() == 0 && tiny.queued() == 0);
  }

  @Test
  void aClientThatLeavesMidStreamFreesItsSequenceWithinOneSecond() throws Exception {
    InferenceServer solo = server("solo");
    String body = "{\"model\":\"solo\",\"stream\":true,\"max_tokens\":16000,\"ignore_eos\":true,"
        + "\"prompt\":\"Once upon a time\"}";
    try (Socket s = new Socket("127.0.0.1", gw.port())) {
      OutputStream out = s.getOutputStream();
      out.write(("POST /v1/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: "
          + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      assertThat(in.readLine()).isEqualTo("HTTP/1.1 200 OK");
      int events = 0;
      for (String line; events < 20 && (line = in.readLine()) != null; ) {
        if (line.startsWith("data: {")) {
          events++;
        }
      }
      assertThat(events).isEqualTo(20);
      assertThat(solo.generating()).as("generating while the client reads").isEqualTo(1);
    } // the client leaves: the socket closes mid-stream
    long left = System.nanoTime();
    await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(5)).until(() -> solo.generating() == 0);
    long freedMillis = (System.nanoTime() - left) / 1_000_000;
    assertThat(freedMillis).isLessThan(1000);

    // the one sequence is free: the next request starts at once (16000 tokens would take seconds)
    long start = System.nanoTime();
    HttpResponse<String> next = post("/completions", "{\"model\":\"solo\",\"max_tokens\":4,\"prompt\":\"Once\"}");
    assertThat(next.statusCode()).isEqualTo(200);
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(1000);
  }

  @Test
  void aPromptLongerThanTheContextIsAnOpenAiShaped400() throws Exception {
    String longPrompt = "Once upon a time there was a little girl named Lily. ".repeat(20);
    BadRequestException e = catchThrowableOfType(BadRequestException.class, () -> sdk.completions().create(
        CompletionCreateParams.builder().model("small").prompt(longPrompt).maxTokens(8L).build()));
    assertThat(e).isNotNull();
    assertThat(e.statusCode()).isEqualTo(400);
    assertThat(e.code()).hasValue("context_length_exceeded");

    HttpResponse<String> raw = post("/chat/completions", "{\"model\":\"small\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"" + longPrompt + "\"}]}");
    assertThat(raw.statusCode()).isEqualTo(400);
    OpenAiSchemas.assertValid(OpenAiSchemas.ERROR_RESPONSE, raw.body());
    JsonNode err = RequestParser.JSON.readTree(raw.body()).get("error");
    assertThat(err.get("code").asText()).isEqualTo("context_length_exceeded");
    assertThat(err.get("type").asText()).isEqualTo("invalid_request_error");
    assertThat(err.get("message").asText()).startsWith("This model's maximum context length is 64 tokens.");

    // a request that fits still works
    assertThat(post("/completions", "{\"model\":\"small\",\"max_tokens\":8,\"prompt\":\"Once\"}").statusCode())
        .isEqualTo(200);
  }

  @Test
  void requestsTheModelCannotServeAreRefusedAsTheCallersFault() throws Exception {
    HttpResponse<String> n2 = post("/chat/completions", "{\"model\":\"tiny\",\"n\":2,\"messages\":[{\"role\":\"user\","
        + "\"content\":\"hi\"}]}");
    assertThat(n2.statusCode()).isEqualTo(400);
    assertThat(RequestParser.JSON.readTree(n2.body()).at("/error/param").asText()).isEqualTo("n");
  }
}
