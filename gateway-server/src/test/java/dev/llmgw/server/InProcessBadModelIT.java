package dev.llmgw.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.llmgw.core.SnapshotLoader;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.log.RequestLogListener;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.testkit.LlamaServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model files that cannot be served, and a gateway that keeps serving its other backends: a missing
 * file, a file that is not GGUF, a truncated copy, a model over its memory limit (each leaves its
 * backend disabled, said at start, in {@code /readyz} and by {@code validate} with file:line), and a
 * file whose header reads well but that llama.cpp refuses (an unknown architecture: the backend is
 * down, its requests fall back). The broken files are made in a temporary directory.
 */
class InProcessBadModelIT {
  @TempDir
  static Path dir;
  static WireMockServer remote;
  static GatewayServer gw;
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  static final String OK_JSON = "{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\","
      + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"from the provider\","
      + "\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}]}";

  /** The stories file with its architecture renamed: a header that reads, a model llama.cpp refuses. */
  static byte[] unknownArchitecture() throws Exception {
    byte[] b = Files.readAllBytes(LlamaServer.stories());
    byte[] key = "general.architecture".getBytes(StandardCharsets.US_ASCII);
    int at = indexOf(b, key) + key.length;
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(bb.getInt(at)).as("a string value").isEqualTo(8);
    assertThat(bb.getLong(at + 4)).isEqualTo(5);
    System.arraycopy("nollm".getBytes(StandardCharsets.US_ASCII), 0, b, at + 12, 5);
    return b;
  }

  static int indexOf(byte[] b, byte[] key) {
    outer:
    for (int i = 0; i + key.length <= b.length; i++) {
      for (int j = 0; j < key.length; j++) {
        if (b[i + j] != key[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }

  @BeforeAll
  static void start() throws Exception {
    remote = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    remote.start();
    remote.stubFor(post(urlEqualTo("/v1/chat/completions")).willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json").withBody(OK_JSON)));
    Files.writeString(dir.resolve("html.gguf"), "<html><body>Not Found</body></html> -- a saved error page");
    byte[] stories = Files.readAllBytes(LlamaServer.stories());
    Files.write(dir.resolve("cut.gguf"), Arrays.copyOf(stories, stories.length / 3));
    Files.write(dir.resolve("nollm.gguf"), unknownArchitecture());
    Files.writeString(dir.resolve("gateway.yaml"), """
        listener: { host: 127.0.0.1, port: 0 }
        backends:
          remote:
            baseUrl: http://127.0.0.1:%d/v1
            models: [m]
          missing:
            type: inprocess
            model: models/missing.gguf
            models: [stories]
          html:
            type: inprocess
            model: html.gguf
            models: [stories]
          cut:
            type: inprocess
            model: cut.gguf
            models: [stories]
          big:
            type: inprocess
            model: %s
            memoryLimit: 8MiB
            models: [stories]
          nollm:
            type: inprocess
            model: nollm.gguf
            models: [stories]
        models:
          remote: { backend: remote, model: m }
          missing: { backend: missing, model: stories, fallbacks: [remote] }
          nollm: { backend: nollm, model: stories, fallbacks: [remote] }
          nollm-alone: { backend: nollm, model: stories }
        state: { store: memory }
        auth: { open: true }
        """.formatted(remote.port(), LlamaServer.stories()));
    gw = new GatewayServer(SnapshotLoader.load(dir, Map.of(), 1), Transport.best(), 1, RequestLogListener.NOOP)
        .start();
  }

  @AfterAll
  static void stop() {
    if (gw != null) {
      gw.stop(Duration.ofSeconds(1));
    }
    if (remote != null) {
      remote.stop();
    }
  }

  static HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> chat(String model) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + model
            + "\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void validateNamesEveryUnusableFileWithItsLine() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.validate(dir, new PrintStream(out), new PrintStream(err));

    assertThat(code).isEqualTo(1);
    String yaml = dir.resolve("gateway.yaml").toString();
    assertThat(err.toString(StandardCharsets.UTF_8).lines().toList()).containsExactly(
        yaml + ":8: backends.missing.model: model file " + dir.resolve("models/missing.gguf") + ": no such file",
        yaml + ":12: backends.html.model: model file " + dir.resolve("html.gguf")
            + ": not a GGUF model file (it starts with \"<htm\", expected \"GGUF\")",
        yaml + ":16: backends.cut.model: model file " + dir.resolve("cut.gguf") + ": truncated: tensor "
            + err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("cut.gguf")).findFirst().orElseThrow()
            .replaceAll(".*truncated: tensor ", ""),
        yaml + ":20: backends.big.model: model file " + LlamaServer.stories() + " needs about "
            + err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("backends.big")).findFirst()
            .orElseThrow().replaceAll(".* needs about ", ""));
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("more than memoryLimit 8.0 MiB")
        .doesNotContain("nollm"); // its header is fine: only loading finds it out
  }

  @Test
  void theGatewayServesItsOtherBackendsAndReadyzSaysWhy() throws Exception {
    assertThat(chat("remote").statusCode()).isEqualTo(200);

    HttpResponse<String> ready = get("/readyz");
    assertThat(ready.statusCode()).as("ready: the other backends serve").isEqualTo(200);
    JsonNode backends = RequestParser.JSON.readTree(ready.body()).get("backends");
    JsonNode missing = find(backends, "missing");
    assertThat(missing.get("enabled").asBoolean()).isFalse();
    assertThat(missing.get("reason").asText()).endsWith("models/missing.gguf: no such file");
    assertThat(find(backends, "html").get("reason").asText()).contains("not a GGUF model file");
    assertThat(find(backends, "cut").get("reason").asText()).contains("truncated");
    assertThat(find(backends, "big").get("reason").asText()).contains("more than memoryLimit");
    JsonNode nollm = find(backends, "nollm");
    assertThat(nollm.get("enabled").asBoolean()).isTrue();
    assertThat(nollm.get("healthy").asBoolean()).as("its model did not load").isFalse();
    assertThat(nollm.get("up").asBoolean()).isFalse();
    assertThat(nollm.get("reason").asText()).contains("nollm.gguf: llama.cpp could not load it");
  }

  @Test
  void requestsForABrokenModelSayWhyOrFallBack() throws Exception {
    // a disabled backend's alias is answered as for any disabled backend: 404 with the reason
    HttpResponse<String> missing = chat("missing");
    assertThat(missing.statusCode()).isEqualTo(404);
    JsonNode error = RequestParser.JSON.readTree(missing.body()).get("error");
    assertThat(error.get("code").asText()).isEqualTo("model_not_found");
    assertThat(error.get("message").asText()).contains("Its backend 'missing' is disabled (model file ")
        .contains("missing.gguf: no such file");

    // a model that failed to load is a backend that is down: skipped, the fallback answers

    HttpResponse<String> nollm = chat("nollm");
    assertThat(nollm.statusCode()).isEqualTo(200);
    assertThat(nollm.headers().firstValue("x-gateway-fallback")).hasValue("nollm=unavailable");

    HttpResponse<String> alone = chat("nollm-alone");
    assertThat(alone.statusCode()).isEqualTo(503);
    assertThat(RequestParser.JSON.readTree(alone.body()).at("/error/message").asText()).contains("nollm");
  }

  static JsonNode find(JsonNode backends, String name) {
    for (JsonNode b : backends) {
      if (b.get("name").asText().equals(name)) {
        return b;
      }
    }
    throw new AssertionError("no backend " + name + " in " + backends);
  }
}
