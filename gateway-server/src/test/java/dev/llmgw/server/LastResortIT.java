package dev.llmgw.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import dev.llmgw.core.SnapshotLoader;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.log.RequestLogListener;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.server.conformance.OpenAiSchemas;
import dev.llmgw.testkit.LlamaServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code failover.lastResort} end to end, from a gateway.yaml: the remote provider answers every
 * request 429 (WireMock), the local llama-server is stopped, and the in-process model named as the last
 * resort answers — plain and streamed, through the OpenAI SDK, marked as a fallback in
 * {@code x-gateway-fallback} and the metrics. Also: 32 clients on an in-process model with 2 sequences
 * and no queue, whose alias falls back to a provider: the overflow is answered there, none is lost.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LastResortIT {
  static WireMockServer remote;
  static LlamaServer llama;
  static GatewayServer gw;
  static OpenAIClient sdk;
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  @TempDir
  static Path dir;

  static final String OK_JSON = "{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"ok-model\","
      + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"from the provider\","
      + "\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
      + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":3,\"total_tokens\":6}}";

  @BeforeAll
  static void start() throws Exception {
    remote = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort().containerThreads(64));
    remote.start();
    remote.stubFor(post(urlEqualTo("/v1/chat/completions")).withRequestBody(matchingJsonPath("$.model",
        equalTo("remote-model"))).willReturn(aResponse().withStatus(429).withHeader("Content-Type", "application/json")
        .withBody("{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}")));
    remote.stubFor(post(urlEqualTo("/v1/chat/completions")).withRequestBody(matchingJsonPath("$.model",
        equalTo("ok-model"))).willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
        .withBody(OK_JSON)));
    llama = LlamaServer.start(LlamaServer.stories());
    Files.writeString(dir.resolve("gateway.yaml"), """
        listener: { host: 127.0.0.1, port: 0 }
        failover:
          lastResort: local-gguf
        backends:
          remote:
            baseUrl: http://127.0.0.1:%d/v1
            models: [remote-model, ok-model]
            resilience: { retry: { maxAttempts: 1 } }
          local:
            baseUrl: %s
            models: [stories]
            timeouts: { connect: 1s }
            resilience: { retry: { maxAttempts: 1 } }
          local-gguf:
            type: inprocess
            model: %s
            contextSize: 1024
            maxSequences: 2
            queue: 8
            threads: 1
            models: [stories]
          busy:
            type: inprocess
            model: %s
            contextSize: 512
            maxSequences: 2
            queue: 0
            threads: 1
            models: [stories]
            resilience: { retry: { maxAttempts: 1 } }
        models:
          smart: { backend: remote, model: remote-model, fallbacks: [local] }
          provider: { backend: remote, model: ok-model }
          local: { backend: local, model: stories }
          local-gguf: { backend: local-gguf, model: stories, contextTokens: 1024, price: { input: 0, output: 0 } }
          busy: { backend: busy, model: stories, fallbacks: [provider] }
        state: { store: memory }
        auth: { open: true }
        """.formatted(remote.port(), llama.baseUrl(), LlamaServer.stories(), LlamaServer.stories()));
    gw = new GatewayServer(SnapshotLoader.load(dir, Map.of(), 1), Transport.best(), 2, RequestLogListener.NOOP)
        .start();
    sdk = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + gw.port() + "/v1").apiKey("sk-any")
        .maxRetries(0).timeout(Duration.ofSeconds(60)).responseValidation(true).build();
  }

  @AfterAll
  static void stop() throws Exception {
    if (sdk != null) {
      sdk.close();
    }
    if (gw != null) {
      gw.stop(Duration.ofSeconds(1));
    }
    if (llama != null) {
      llama.close();
    }
    if (remote != null) {
      remote.stop();
    }
  }

  static HttpResponse<String> chat(String model, boolean stream) throws Exception {
    String body = "{\"model\":\"" + model + "\",\"max_tokens\":16,\"stream\":" + stream
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}]}";
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  @Order(1)
  void whileTheLocalServerRunsItIsTheFallbackAndTheLastResortIsNotNeeded() throws Exception {
    HttpResponse<String> r = chat("smart", false);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-gateway-backend")).hasValue("local");
    assertThat(r.headers().firstValue("x-gateway-fallback")).hasValue("remote=rate_limited");
  }

  @Test
  @Order(2)
  void withTheLocalServerDownTheInProcessModelAnswersPlain() throws Exception {
    llama.close(); // the local llama-server stops
    remote.resetRequests();

    HttpResponse<String> r = chat("smart", false);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-gateway-backend")).hasValue("local-gguf");
    assertThat(r.headers().firstValue("x-gateway-fallback"))
        .hasValue("remote=rate_limited, local=connect_failure, last-resort=local-gguf");
    assertThat(r.headers().firstValue("x-gateway-attempts")).hasValue("3");
    OpenAiSchemas.assertValid(OpenAiSchemas.CHAT_COMPLETION_RESPONSE, r.body());
    JsonNode json = RequestParser.JSON.readTree(r.body());
    assertThat(json.at("/choices/0/message/content").asText()).isNotBlank();
    assertThat(json.at("/usage/completion_tokens").asInt()).isEqualTo(16);
    remote.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions")));

    String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/metrics"))
        .build(), HttpResponse.BodyHandlers.ofString()).body();
    assertThat(metrics).containsPattern("gateway_last_resort_total\\{backend=\"local-gguf\",model=\"local-gguf\"\\} [1-9]")
        .containsPattern("gateway_fallbacks_total\\{from=\"local\",reason=\"connect_failure\",to=\"local-gguf\"\\} [1-9]");
  }

  @Test
  @Order(3)
  void withTheLocalServerDownTheInProcessModelAnswersStreamedThroughTheSdk() {
    List<ChatCompletionChunk> chunks;
    try (StreamResponse<ChatCompletionChunk> s = sdk.chat().completions().createStreaming(
        ChatCompletionCreateParams.builder().model("smart").addUserMessage("Tell me a story").maxCompletionTokens(24L)
            .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
      chunks = s.stream().collect(Collectors.toList());
    }
    String text = chunks.stream().flatMap(c -> c.choices().stream()).map(c -> c.delta().content().orElse(""))
        .collect(Collectors.joining());
    assertThat(text).isNotBlank();
    ChatCompletionChunk last = chunks.get(chunks.size() - 1);
    assertThat(last.usage().orElseThrow().completionTokens()).isEqualTo(24L);
    assertThat(last.model()).isEqualTo("stories");
  }

  @Test
  @Order(4)
  void thirtyTwoClientsOnTwoSequencesWithoutAQueueAreAnsweredHereOrByTheFallback() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      String body = "{\"model\":\"busy\",\"max_tokens\":64,\"stream\":" + (i % 2 == 0)
          + ",\"messages\":[{\"role\":\"user\",\"content\":\"Story " + i + "\"}]}";
      all.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
          .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    int here = 0;
    int fellBack = 0;
    for (CompletableFuture<HttpResponse<String>> f : all) {
      HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      String backend = r.headers().firstValue("x-gateway-backend").orElse("");
      if (backend.equals("busy")) {
        here++;
      } else {
        assertThat(backend).isEqualTo("remote");
        assertThat(r.headers().firstValue("x-gateway-fallback")).hasValue("busy=rate_limited");
        fellBack++;
      }
    }
    assertThat(here + fellBack).as("none lost").isEqualTo(32);
    assertThat(here).as("the model served what its sequences could").isGreaterThanOrEqualTo(2);
    assertThat(fellBack).as("2 sequences, no queue: the rest went to the fallback").isPositive();
  }
}
