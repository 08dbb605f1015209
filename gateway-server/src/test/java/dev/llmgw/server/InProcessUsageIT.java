package dev.llmgw.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
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
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.server.conformance.OpenAiSchemas;
import dev.llmgw.testkit.LlamaServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Usage is exact: the in-process model's {@code prompt_tokens} and {@code completion_tokens} are what
 * llama.cpp itself reports for the same request — checked against llama-server ({@code ../shared/llama},
 * the same TinyStories file) answering the same greedy requests, plain and streamed, with and without
 * stop strings, for completions and for chats (the in-process backend configured with the chatml
 * template llama-server falls back to for a model without one). The texts are compared too: same
 * model, same greedy decoding.
 */
class InProcessUsageIT {
  static LlamaServer llama;
  static GatewayServer gw;
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    llama = LlamaServer.start(LlamaServer.stories(), "-np", "1");
    Timeouts t = new Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofSeconds(10),
        Duration.ofSeconds(60));
    Map<String, BackendSpec> backends = new LinkedHashMap<>();
    backends.put("tiny", BackendSpec.inProcess("tiny", InProcessSpec.of(LlamaServer.stories(), 2048, 1, 1, 4)
        .withChatTemplate("chatml"), List.of("stories"), t, Resilience.defaults()));
    Map<String, ModelAlias> models = new LinkedHashMap<>();
    models.put("tiny", new ModelAlias("tiny", "tiny", "stories", "local", 2048));
    gw = new GatewayServer(new GatewayConfig(null, new ListenerSpec("127.0.0.1", 0), Limits.defaults(), backends,
        models, Failover.defaults()), Transport.best(), 1).start();
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

  static JsonNode post(String baseUrl, String path, String body) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + path))
        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    if (r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream")) {
      // the text of every chunk, and the usage chunk
      StringBuilder text = new StringBuilder();
      JsonNode usage = null;
      for (String data : OpenAiSchemas.sseDataPayloads(r.body())) {
        if (data.equals("[DONE]")) {
          continue;
        }
        JsonNode chunk = RequestParser.JSON.readTree(data);
        JsonNode c = chunk.path("choices").path(0);
        text.append(c.has("delta") ? c.path("delta").path("content").asText("") : c.path("text").asText(""));
        if (chunk.hasNonNull("usage")) {
          usage = chunk.get("usage");
        }
      }
      var out = RequestParser.JSON.createObjectNode();
      out.put("text", text.toString());
      out.set("usage", usage);
      return out;
    }
    JsonNode json = RequestParser.JSON.readTree(r.body());
    JsonNode c = json.at("/choices/0");
    var out = RequestParser.JSON.createObjectNode();
    out.put("text", c.has("message") ? c.at("/message/content").asText() : c.path("text").asText());
    out.set("usage", json.get("usage"));
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "/completions|{\"prompt\":\"Once upon a time\",\"max_tokens\":40,\"temperature\":0}",
      "/completions|{\"prompt\":\"Lily and Ben went to the park. They saw\",\"max_tokens\":200,\"temperature\":0,"
          + "\"stop\":[\".\"]}",
      "/completions|{\"prompt\":\"Once upon a time\",\"max_tokens\":60,\"temperature\":0,\"stream\":true,"
          + "\"stream_options\":{\"include_usage\":true}}",
      "/completions|{\"prompt\":\"The cat sat on the mat\",\"max_tokens\":100,\"temperature\":0,\"stop\":[\"cat\"],"
          + "\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
      "/chat/completions|{\"messages\":[{\"role\":\"system\",\"content\":\"You tell stories.\"},{\"role\":\"user\","
          + "\"content\":\"Tell me about a dog.\"}],\"max_tokens\":32,\"temperature\":0}",
      "/chat/completions|{\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"max_tokens\":48,"
          + "\"temperature\":0,\"stream\":true,\"stream_options\":{\"include_usage\":true}}"})
  void usageAndTextMatchLlamaServer(String request) throws Exception {
    String path = request.substring(0, request.indexOf('|'));
    String body = request.substring(request.indexOf('|') + 1);
    JsonNode reference = post(llama.baseUrl(), path, body.replaceFirst("\\{", "{\"model\":\"stories\","));
    JsonNode ours = post("http://127.0.0.1:" + gw.port() + "/v1", path,
        body.replaceFirst("\\{", "{\"model\":\"tiny\","));

    assertThat(reference.get("usage")).as("llama-server reports usage").isNotNull();
    assertThat(ours.at("/usage/prompt_tokens").asInt()).as("prompt tokens")
        .isEqualTo(reference.at("/usage/prompt_tokens").asInt());
    assertThat(ours.at("/usage/completion_tokens").asInt()).as("completion tokens")
        .isEqualTo(reference.at("/usage/completion_tokens").asInt());
    assertThat(ours.get("text").asText()).as("greedy text").isEqualTo(reference.get("text").asText());
  }
}
