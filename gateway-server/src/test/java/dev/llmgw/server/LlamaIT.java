package dev.llmgw.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.config.Limits;
import dev.llmgw.core.config.Timeouts;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.server.conformance.OpenAiSchemas;
import dev.llmgw.testkit.LlamaServer;
import dev.llmgw.testkit.TestConfigs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real local model behind the gateway: llama.cpp's llama-server with the tiny GGUF model from
 * {@code ../shared/llama} ({@link LlamaServer}), on a free loopback port, stopped by PID.
 */
class LlamaIT {
  static LlamaServer llama;
  static GatewayServer gw;
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void startLlama() throws Exception {
    llama = LlamaServer.start();
    Timeouts t = new Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofSeconds(30),
        Duration.ofSeconds(60));
    gw = new GatewayServer(TestConfigs.oneBackend(llama.baseUrl(), t, Limits.defaults()), Transport.best(), 2)
        .start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (gw != null) {
      gw.stop(Duration.ofSeconds(1));
    }
    if (llama != null) {
      llama.close();
    }
  }

  static HttpResponse<String> chat(String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void plainChatCompletionFromARealModel() throws Exception {
    HttpResponse<String> r = chat("{\"model\":\"gw-model\",\"max_tokens\":8,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}]}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-gateway-backend")).hasValue("mock");
    JsonNode json = RequestParser.JSON.readTree(r.body());
    assertThat(json.get("object").asText()).isEqualTo("chat.completion");
    assertThat(json.at("/choices/0/message/content").asText()).isNotEmpty();
    assertThat(json.at("/usage/completion_tokens").asInt()).isBetween(1, 8);
    // llama.cpp omits message.refusal and choices[].logprobs, which the spec requires (nullable);
    // the gateway relays bodies unchanged, so exactly those two are expected to differ.
    assertThat(OpenAiSchemas.errors(OpenAiSchemas.CHAT_COMPLETION_RESPONSE, r.body()))
        .allSatisfy(e -> assertThat(e).containsAnyOf("refusal", "logprobs"));
  }

  @Test
  void streamingChatCompletionFromARealModel() throws Exception {
    HttpResponse<String> r = chat("{\"model\":\"gw-model\",\"max_tokens\":8,\"stream\":true,"
        + "\"stream_options\":{\"include_usage\":true},"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"Count to three\"}]}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
    OpenAiSchemas.assertSseStreamValid(OpenAiSchemas.CHAT_COMPLETION_CHUNK, r.body());
    List<String> payloads = new ArrayList<>(OpenAiSchemas.sseDataPayloads(r.body()));
    assertThat(payloads.get(payloads.size() - 1)).isEqualTo("[DONE]");
    assertThat(payloads.size()).isGreaterThan(3);
  }

  @Test
  void sequentialAndParallelRequestsReuseConnections() throws Exception {
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> fs = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      fs.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gw-model\",\"max_tokens\":4,\"stream\":" + (i % 2 == 0)
              + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi " + i + "\"}]}")).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    for (var f : fs) {
      assertThat(f.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
  }
}
