package dev.llmgw.server.sdk;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.InternalServerException;
import com.openai.errors.NotFoundException;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.models.Model;
import com.openai.models.models.ModelListPage;
import dev.llmgw.core.config.Limits;
import dev.llmgw.core.config.Timeouts;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.server.GatewayServer;
import dev.llmgw.server.conformance.OpenAiSchemas;
import dev.llmgw.testkit.TestConfigs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import okio.ForwardingSource;
import okio.Okio;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The official OpenAI Java SDK ({@code com.openai:openai-java}, OkHttp flavour) used as a real client of the gateway,
 * with WireMock on 127.0.0.1 as the backend serving realistic OpenAI bodies (the files under
 * {@code src/test/resources/conformance/}).
 *
 * <h2>How the gateway's bytes are captured for the conformance checks</h2>
 * The SDK's {@link OpenAIOkHttpClient.Builder#addInterceptor(Interceptor)} accepts an OkHttp interceptor, so the test
 * captures exactly what the SDK itself received, on the SDK's own connection, without a second request:
 * {@link Capture} records every response (method, path, status, content type, body bytes). A JSON body is read in
 * full by the interceptor and handed to the SDK as an identical in-memory body; a {@code text/event-stream} body is
 * NOT buffered: it is wrapped in a tee ({@link ForwardingSource}) that copies every byte as the SDK's SSE reader
 * pulls it, so streaming semantics are untouched and the captured text is what the SDK parsed. Every captured
 * exchange, success or error, is then validated against the official OpenAPI spec ({@link OpenAiSchemas}), the
 * schema chosen by path, status and content type (see {@link #assertEveryExchangeConforms()}).
 *
 * <p>The client uses {@code maxRetries(0)} (the SDK retries 5xx/429 by default, which would duplicate exchanges and
 * backend calls) and {@code responseValidation(true)} (the SDK then checks every parsed body against its own model
 * types, so "the SDK can parse it" is enforced strictly, not leniently). Note that the SDK maps every status in
 * 500..599, including the gateway's 502, to {@link InternalServerException} carrying the real status code.
 */
class OpenAiSdkIT {
  private static final String CHAT_JSON = resource("/conformance/chat-completion.json");
  private static final String CHAT_SSE = resource("/conformance/chat-completion-stream.sse");
  private static final String COMPLETION_JSON = resource("/conformance/completion.json");
  private static final String EMBEDDINGS_JSON = resource("/conformance/embeddings.json");

  static WireMockServer wm;
  static GatewayServer gw;
  static OpenAIClient client;
  static final List<Captured> captured = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    wm = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    wm.start();
    Timeouts t = new Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ofSeconds(3),
        Duration.ofSeconds(10));
    gw = new GatewayServer(TestConfigs.oneBackend("http://127.0.0.1:" + wm.port() + "/v1", t, Limits.defaults()),
        Transport.best(), 2).start();
    client = OpenAIOkHttpClient.builder()
        .baseUrl("http://127.0.0.1:" + gw.port() + "/v1")
        .apiKey("sk-client-any-key")
        .maxRetries(0)
        .timeout(Duration.ofSeconds(5))
        .responseValidation(true)
        .addInterceptor(new Capture())
        .build();
  }

  @AfterAll
  static void stop() {
    if (client != null) {
      client.close();
    }
    if (gw != null) {
      gw.stop(Duration.ofMillis(200));
    }
    if (wm != null) {
      wm.stop();
    }
  }

  @BeforeEach
  void reset() {
    wm.resetAll();
    captured.clear();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // 1. chat completion

  @Test
  void chatCompletionIsParsedByTheSdk() throws Exception {
    stubJson("/v1/chat/completions", 200, CHAT_JSON);

    ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder()
        .model("gw-model").addUserMessage("Say hello").build());

    assertThat(c.id()).isEqualTo("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT");
    assertThat(c.choices()).hasSize(1);
    assertThat(c.choices().get(0).message().content()).hasValue("Hello! How can I assist you today?");
    assertThat(c.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
    assertThat(c.usage().map(CompletionUsage::totalTokens)).hasValue(29L);
    wm.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions"))
        .withRequestBody(matchingJsonPath("$.model", equalTo("backend-model")))
        .withRequestBody(matchingJsonPath("$.messages[0].content", equalTo("Say hello"))));

    Captured x = only("POST", "/v1/chat/completions");
    assertThat(x.status).isEqualTo(200);
    assertThat(json(x.body())).isEqualTo(json(CHAT_JSON));
    assertEveryExchangeConforms();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // 2. chat completion streaming

  @Test
  void chatCompletionStreamIsIteratedToTheFinalUsageChunk() throws Exception {
    stubSse(CHAT_SSE);

    List<ChatCompletionChunk> chunks;
    try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
        ChatCompletionCreateParams.builder().model("gw-model").addUserMessage("Say hello")
            .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
      chunks = s.stream().collect(Collectors.toList());
    }

    assertThat(chunks).hasSize(5);
    assertThat(content(chunks)).isEqualTo("Hello!");
    ChatCompletionChunk last = chunks.get(chunks.size() - 1);
    assertThat(last.choices()).isEmpty();
    assertThat(last.usage()).isPresent();
    assertThat(last.usage().get().promptTokens()).isEqualTo(19L);
    assertThat(last.usage().get().completionTokens()).isEqualTo(2L);
    assertThat(last.usage().get().totalTokens()).isEqualTo(21L);
    assertThat(chunks.subList(0, 4)).allSatisfy(ch -> assertThat(ch.usage()).isEmpty());
    assertThat(chunks.get(3).choices().get(0).finishReason())
        .hasValue(ChatCompletionChunk.Choice.FinishReason.STOP);
    wm.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions"))
        .withRequestBody(matchingJsonPath("$.model", equalTo("backend-model")))
        .withRequestBody(matchingJsonPath("$.stream", equalTo("true")))
        .withRequestBody(matchingJsonPath("$.stream_options.include_usage", equalTo("true"))));

    Captured x = only("POST", "/v1/chat/completions");
    await().atMost(Duration.ofSeconds(2)).until(() -> x.closed);
    assertThat(x.contentType).startsWith("text/event-stream");
    assertThat(OpenAiSchemas.sseDataPayloads(x.body())).isEqualTo(OpenAiSchemas.sseDataPayloads(CHAT_SSE));
    assertEveryExchangeConforms();
  }

  @Test
  void chatCompletionStreamWithoutUsageHasNoUsageChunk() throws Exception {
    String sse = withoutUsageChunk(CHAT_SSE);
    stubSse(sse);

    List<ChatCompletionChunk> chunks;
    try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
        ChatCompletionCreateParams.builder().model("gw-model").addUserMessage("Say hello").build())) {
      chunks = s.stream().collect(Collectors.toList());
    }

    assertThat(chunks).hasSize(4);
    assertThat(content(chunks)).isEqualTo("Hello!");
    assertThat(chunks).allSatisfy(ch -> assertThat(ch.usage()).isEmpty());
    assertThat(chunks.get(3).choices().get(0).finishReason())
        .hasValue(ChatCompletionChunk.Choice.FinishReason.STOP);

    Captured x = only("POST", "/v1/chat/completions");
    await().atMost(Duration.ofSeconds(2)).until(() -> x.closed);
    assertThat(OpenAiSchemas.sseDataPayloads(x.body())).isEqualTo(OpenAiSchemas.sseDataPayloads(sse));
    assertEveryExchangeConforms();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // 3. legacy completion, embeddings, models

  @Test
  void legacyCompletionIsParsedByTheSdk() throws Exception {
    stubJson("/v1/completions", 200, COMPLETION_JSON);

    Completion c = client.completions().create(CompletionCreateParams.builder()
        .model("gw-model").prompt("Say this is a test").maxTokens(7L).build());

    assertThat(c.id()).isEqualTo("cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7");
    assertThat(c.choices()).hasSize(1);
    assertThat(c.choices().get(0).text()).isEqualTo("\n\nThis is indeed a test");
    assertThat(c.choices().get(0).finishReason()).isEqualTo(
        com.openai.models.completions.CompletionChoice.FinishReason.LENGTH);
    assertThat(c.usage().map(CompletionUsage::totalTokens)).hasValue(12L);
    wm.verify(1, postRequestedFor(urlEqualTo("/v1/completions"))
        .withRequestBody(matchingJsonPath("$.model", equalTo("backend-model")))
        .withRequestBody(matchingJsonPath("$.prompt", equalTo("Say this is a test"))));

    Captured x = only("POST", "/v1/completions");
    assertThat(json(x.body())).isEqualTo(json(COMPLETION_JSON));
    assertEveryExchangeConforms();
  }

  @Test
  void embeddingsAreParsedByTheSdk() throws Exception {
    stubJson("/v1/embeddings", 200, EMBEDDINGS_JSON);

    // the SDK asks for base64 by default; ask for floats explicitly, matching what the backend stub returns
    CreateEmbeddingResponse r = client.embeddings().create(EmbeddingCreateParams.builder()
        .model("embed").input("The food was delicious")
        .encodingFormat(EmbeddingCreateParams.EncodingFormat.FLOAT).build());

    assertThat(r.data()).hasSize(2);
    assertThat(r.data().get(0).index()).isZero();
    assertThat(r.data().get(0).embedding())
        .containsExactly(-0.006929283f, -0.005336422f, 0.00024047505f, -0.024047505f);
    assertThat(r.data().get(1).embedding()).containsExactly(0.0123f, 0f, -1.5e-3f, 0.5f);
    assertThat(r.usage().totalTokens()).isEqualTo(8L);
    wm.verify(1, postRequestedFor(urlEqualTo("/v1/embeddings"))
        .withRequestBody(matchingJsonPath("$.model", equalTo("text-embedding")))
        .withRequestBody(matchingJsonPath("$.encoding_format", equalTo("float"))));

    Captured x = only("POST", "/v1/embeddings");
    assertThat(json(x.body())).isEqualTo(json(EMBEDDINGS_JSON));
    assertEveryExchangeConforms();
  }

  @Test
  void modelsListIsAnsweredByTheGatewayItself() {
    ModelListPage page = client.models().list();

    assertThat(page.data()).extracting(Model::id).containsExactlyInAnyOrder("gw-model", "backend-model", "embed");
    assertThat(page.data()).allSatisfy(m -> {
      assertThat(m.ownedBy()).isEqualTo("mock");
      assertThat(m.created()).isNotNegative();
    });
    assertThat(page.hasNextPage()).isFalse();
    assertThat(wm.getAllServeEvents()).as("answered locally, not forwarded").isEmpty();

    assertThat(only("GET", "/v1/models").status).isEqualTo(200);
    assertEveryExchangeConforms();
  }

  @Test
  void modelRetrieveIsAnsweredByTheGatewayItself() {
    Model m = client.models().retrieve("gw-model");
    assertThat(m.id()).isEqualTo("gw-model");
    assertThat(m.ownedBy()).isEqualTo("mock");

    Model e = client.models().retrieve("embed");
    assertThat(e.id()).isEqualTo("embed");

    NotFoundException nf = catchThrowableOfType(() -> client.models().retrieve("no-such-model"),
        NotFoundException.class);
    assertThat(nf).isNotNull();
    assertThat(nf.statusCode()).isEqualTo(404);
    assertThat(nf.code()).hasValue("model_not_found");
    assertThat(wm.getAllServeEvents()).as("answered locally, not forwarded").isEmpty();

    assertThat(captured).extracting(c -> c.path)
        .containsExactly("/v1/models/gw-model", "/v1/models/embed", "/v1/models/no-such-model");
    assertEveryExchangeConforms();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // 4. errors

  @Test
  void unknownModelIsNotFoundWithCodeAndParam() {
    NotFoundException e = catchThrowableOfType(() -> client.chat().completions().create(
        ChatCompletionCreateParams.builder().model("no-such-model").addUserMessage("hi").build()),
        NotFoundException.class);

    assertThat(e).isNotNull();
    assertThat(e.statusCode()).isEqualTo(404);
    assertThat(e.code()).hasValue("model_not_found");
    assertThat(e.param()).hasValue("model");
    assertThat(e.type()).hasValue("invalid_request_error");
    assertThat(errorMessage(e)).contains("no-such-model");
    assertThat(wm.getAllServeEvents()).as("never reaches the backend").isEmpty();

    assertThat(only("POST", "/v1/chat/completions").status).isEqualTo(404);
    assertEveryExchangeConforms();
  }

  @Test
  void unknownModelOnAStreamingRequestIsAJsonNotFound() {
    NotFoundException e = catchThrowableOfType(() -> {
      try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
          ChatCompletionCreateParams.builder().model("no-such-model").addUserMessage("hi").build())) {
        s.stream().forEach(ch -> { });
      }
    }, NotFoundException.class);

    assertThat(e).isNotNull();
    assertThat(e.code()).hasValue("model_not_found");
    assertThat(e.param()).hasValue("model");
    assertThat(wm.getAllServeEvents()).isEmpty();
    assertEveryExchangeConforms();
  }

  @Test
  void backendBadRequestReachesTheSdkAsBadRequestException() {
    String backendError = "{\"error\":{\"message\":\"Invalid value for 'temperature': must be <= 2.\","
        + "\"type\":\"invalid_request_error\",\"param\":\"temperature\",\"code\":\"invalid_value\"}}";
    stubJson("/v1/chat/completions", 400, backendError);

    BadRequestException e = catchThrowableOfType(() -> client.chat().completions().create(
        ChatCompletionCreateParams.builder().model("gw-model").addUserMessage("hi").temperature(3.0).build()),
        BadRequestException.class);

    assertThat(e).isNotNull();
    assertThat(e.statusCode()).isEqualTo(400);
    assertThat(e.param()).hasValue("temperature");
    assertThat(e.code()).hasValue("invalid_value");
    assertThat(e.type()).hasValue("invalid_request_error");
    assertThat(errorMessage(e)).isEqualTo("Invalid value for 'temperature': must be <= 2.");
    wm.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions")));

    assertThat(only("POST", "/v1/chat/completions").status).isEqualTo(400);
    assertEveryExchangeConforms();
  }

  @Test
  void backendBadRequestOnAStreamingRequestReachesTheSdkAsBadRequestException() {
    String backendError = "{\"error\":{\"message\":\"Invalid value for 'temperature': must be <= 2.\","
        + "\"type\":\"invalid_request_error\",\"param\":\"temperature\",\"code\":\"invalid_value\"}}";
    stubJson("/v1/chat/completions", 400, backendError);

    BadRequestException e = catchThrowableOfType(() -> {
      try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
          ChatCompletionCreateParams.builder().model("gw-model").addUserMessage("hi").temperature(3.0).build())) {
        s.stream().forEach(ch -> { });
      }
    }, BadRequestException.class);

    assertThat(e).isNotNull();
    assertThat(e.param()).hasValue("temperature");
    assertThat(errorMessage(e)).isEqualTo("Invalid value for 'temperature': must be <= 2.");
    assertEveryExchangeConforms();
  }

  @Test
  void backendServerErrorReachesTheSdkAsA5xxException() {
    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(500)
        .withHeader("Content-Type", "application/json")
        .withBody("{\"error\":{\"message\":\"The server had an error while processing your request.\","
            + "\"type\":\"server_error\",\"param\":null,\"code\":null}}")));

    InternalServerException e = catchThrowableOfType(() -> client.chat().completions().create(
        ChatCompletionCreateParams.builder().model("gw-model").addUserMessage("hi").build()),
        InternalServerException.class);

    assertThat(e).isNotNull();
    assertThat(e.statusCode()).isBetween(500, 599); // the gateway answers 502; the SDK maps all 5xx to this type
    assertThat(e.statusCode()).isEqualTo(502);
    assertThat(e.type()).hasValue("server_error");
    assertThat(e.code()).hasValue("backend_error");
    // the SDK does not retry (maxRetries(0)); the gateway retries a 5xx once (default retry.maxAttempts 2)
    wm.verify(2, postRequestedFor(urlEqualTo("/v1/chat/completions")));

    assertThat(only("POST", "/v1/chat/completions").status).isEqualTo(502);
    assertEveryExchangeConforms();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // 5. conformance of everything the SDK received

  /**
   * Validates every response the SDK received in this test against the official spec: error statuses against
   * {@code ErrorResponse}, event streams chunk by chunk against {@code CreateChatCompletionStreamResponse}, and JSON
   * bodies against the response schema of their endpoint.
   */
  static void assertEveryExchangeConforms() {
    assertThat(captured).as("captured exchanges").isNotEmpty();
    for (Captured x : captured) {
      await().atMost(Duration.ofSeconds(2)).until(() -> x.closed);
      String body = x.body();
      if (x.status >= 400) {
        assertThat(x.contentType).as(x + " content type").startsWith("application/json");
        OpenAiSchemas.assertValid(OpenAiSchemas.ERROR_RESPONSE, body);
      } else if (x.contentType != null && x.contentType.startsWith("text/event-stream")) {
        assertThat(x.path).isEqualTo("/v1/chat/completions");
        OpenAiSchemas.assertSseStreamValid(OpenAiSchemas.CHAT_COMPLETION_CHUNK, body);
      } else {
        assertThat(x.contentType).as(x + " content type").startsWith("application/json");
        OpenAiSchemas.assertValid(schemaFor(x), body);
      }
    }
  }

  private static String schemaFor(Captured x) {
    switch (x.path) {
      case "/v1/chat/completions":
        return OpenAiSchemas.CHAT_COMPLETION_RESPONSE;
      case "/v1/completions":
        return OpenAiSchemas.COMPLETION_RESPONSE;
      case "/v1/embeddings":
        return OpenAiSchemas.EMBEDDING_RESPONSE;
      case "/v1/models":
        return OpenAiSchemas.LIST_MODELS_RESPONSE;
      default:
        if (x.path.startsWith("/v1/models/")) {
          return OpenAiSchemas.MODEL;
        }
        throw new AssertionError("no schema known for " + x);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // capture

  /** One response as the SDK received it. */
  static final class Captured {
    final String method;
    final String path;
    final int status;
    final String contentType;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    volatile boolean closed;

    Captured(String method, String path, int status, String contentType) {
      this.method = method;
      this.path = path;
      this.status = status;
      this.contentType = contentType;
    }

    synchronized void append(byte[] b) {
      bytes.writeBytes(b);
    }

    synchronized String body() {
      return bytes.toString(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return method + " " + path + " -> " + status + " (" + contentType + ")";
    }
  }

  /** OkHttp application interceptor recording every response handed to the SDK (see the class Javadoc). */
  static final class Capture implements Interceptor {
    @Override
    public Response intercept(Chain chain) throws IOException {
      Request request = chain.request();
      Response response = chain.proceed(request);
      ResponseBody body = response.body();
      Captured x = new Captured(request.method(), request.url().encodedPath(), response.code(),
          response.header("Content-Type"));
      captured.add(x);
      if (body == null) {
        x.closed = true;
        return response;
      }
      MediaType type = body.contentType();
      if (type != null && "event-stream".equals(type.subtype())) {
        BufferedSource tee = Okio.buffer(new ForwardingSource(body.source()) {
          @Override
          public long read(Buffer sink, long byteCount) throws IOException {
            long n = super.read(sink, byteCount);
            if (n > 0) {
              Buffer copy = new Buffer();
              sink.copyTo(copy, sink.size() - n, n);
              x.append(copy.readByteArray());
            }
            return n;
          }

          @Override
          public void close() throws IOException {
            try {
              super.close();
            } finally {
              x.closed = true;
            }
          }
        });
        return response.newBuilder().body(ResponseBody.create(tee, type, body.contentLength())).build();
      }
      byte[] all = body.bytes(); // reads fully and closes the original body
      x.append(all);
      x.closed = true;
      return response.newBuilder().body(ResponseBody.create(all, type)).build();
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // helpers

  static Captured only(String method, String path) {
    List<Captured> matching = new ArrayList<>();
    for (Captured c : captured) {
      if (c.method.equals(method) && c.path.equals(path)) {
        matching.add(c);
      }
    }
    assertThat(matching).as("exchanges %s %s among %s", method, path, captured).hasSize(1);
    return matching.get(0);
  }

  static void stubJson(String path, int status, String body) {
    wm.stubFor(post(path).willReturn(aResponse().withStatus(status)
        .withHeader("Content-Type", "application/json").withBody(body)));
  }

  static void stubSse(String sse) {
    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "text/event-stream").withHeader("Cache-Control", "no-cache")
        .withBody(sse).withChunkedDribbleDelay(6, 150)));
  }

  static String content(List<ChatCompletionChunk> chunks) {
    StringBuilder sb = new StringBuilder();
    for (ChatCompletionChunk ch : chunks) {
      for (ChatCompletionChunk.Choice c : ch.choices()) {
        c.delta().content().ifPresent(sb::append);
      }
    }
    return sb.toString();
  }

  /** The SSE body without its usage-only event (the backend's answer when include_usage was not asked for). */
  static String withoutUsageChunk(String sse) {
    String out = java.util.Arrays.stream(sse.split("\n\n"))
        .filter(ev -> !ev.contains("\"choices\":[]"))
        .filter(ev -> !ev.isBlank())
        .collect(Collectors.joining("\n\n", "", "\n\n"));
    // the usage of the others is "usage":null, which the spec allows; keep it as OpenAI sends it
    assertThat(out).doesNotContain("\"prompt_tokens\"").contains("data: [DONE]");
    return out;
  }

  static String errorMessage(OpenAIServiceException e) {
    Optional<? extends Map<String, JsonValue>> error = e.body().asObject();
    JsonValue message = error.isPresent() ? error.get().get("message") : null;
    Optional<String> text = message == null ? Optional.empty() : message.asString();
    return text.orElseThrow(() -> new AssertionError("no error.message in " + e.body()));
  }

  static JsonNode json(String s) throws IOException {
    return RequestParser.JSON.readTree(s);
  }

  static String resource(String name) {
    try (InputStream in = OpenAiSdkIT.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
