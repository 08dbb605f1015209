package dev.llmgw.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.SnapshotLoader;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.log.RequestLogListener;
import dev.llmgw.core.resilience.LocalModelHint;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.testkit.LlamaServer;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A newcomer's first run: the shipped config, no model server on the local port and no GGUF file. The
 * start lines and the 503 a client gets say how to point the gateway at a model, in the OpenAI error
 * shape and without an address; with a model file loaded nothing is said.
 */
class ModelHintIT {
  static final Path SHIPPED = Path.of("..", "config");
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  static final String SENTENCE = "To point the gateway at a model, set LOCAL_MODEL_URL to a model server's base URL"
      + " (llama.cpp, Ollama or vLLM, e.g. http://127.0.0.1:11434/v1) or LOCAL_MODEL_PATH to a GGUF file to run it"
      + " inside the gateway, and restart it.";

  GatewayServer gw;
  ListAppender<ILoggingEvent> logs;
  Logger hintLogger;
  int closedPort;

  @BeforeEach
  void capture() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort(); // nothing listens there once closed
    }
    hintLogger = (Logger) LoggerFactory.getLogger(LocalModelHint.class);
    logs = new ListAppender<>();
    logs.start();
    hintLogger.addAppender(logs);
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.stop(Duration.ofSeconds(1));
    }
    hintLogger.detachAppender(logs);
  }

  GatewayServer start(Map<String, String> env) throws Exception {
    gw = new GatewayServer(SnapshotLoader.load(SHIPPED, env, 1), Transport.best(), 1, RequestLogListener.NOOP).start();
    return gw;
  }

  Map<String, String> env(String... more) {
    java.util.Map<String, String> env = new java.util.HashMap<>(Map.of("GATEWAY_PORT", "0",
        "GATEWAY_STATE_STORE", "memory", "LOCAL_MODEL_URL", "http://127.0.0.1:" + closedPort + "/v1"));
    for (int i = 0; i < more.length; i += 2) {
      env.put(more[i], more[i + 1]);
    }
    return env;
  }

  List<String> warnings() {
    return logs.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList();
  }

  HttpResponse<String> chat() throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"auto\",\"messages\":[{\"role\":\"user\","
            + "\"content\":\"Hello\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode error(HttpResponse<String> r) throws Exception {
    JsonNode root = RequestParser.JSON.readTree(r.body());
    assertThat(root.size()).as("only 'error' at the top: " + r.body()).isEqualTo(1);
    JsonNode e = root.get("error");
    assertThat(e.path("message").isTextual()).isTrue();
    assertThat(e.path("type").asText()).isEqualTo("server_error");
    assertThat(e.has("param") && e.get("param").isNull()).as("param: null").isTrue();
    assertThat(e.path("code").asText()).isEqualTo("backend_unavailable");
    return e;
  }

  @Test
  void withNoModelTheStartLinesAndTheErrorsSayHowToPointItAtOne() throws Exception {
    start(env());

    await().atMost(Duration.ofSeconds(10)).until(() -> !warnings().isEmpty());
    assertThat(warnings()).containsExactly("no local model is up (local: no model server answers at http://127.0.0.1:"
        + closedPort + "/v1 (ConnectException); local-gguf: LOCAL_MODEL_PATH is not set (model: is empty)). " + SENTENCE);

    // the first request: the local server refuses the connection (its health check has not failed twice yet)
    HttpResponse<String> first = chat();
    assertThat(first.statusCode()).as(first.body()).isIn(502, 503);
    JsonNode e = error(first);
    assertThat(e.path("message").asText()).endsWith(". " + SENTENCE);
    assertThat(first.body()).as("no address of the gateway's backends").doesNotContain(":" + closedPort);

    // once the health check has marked it down, the local server is skipped: 503, the same sentence
    await().atMost(Duration.ofSeconds(20)).until(() -> !gw.guards().all().stream()
        .filter(g -> g.spec().name().equals("local")).findFirst().orElseThrow().isHealthy());
    for (int i = 0; i < 2; i++) { // every such error says it, not only the first
      HttpResponse<String> r = chat();
      assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
      assertThat(error(r).path("message").asText()).isEqualTo("No backend could take the request (local: health"
          + " check failing). " + SENTENCE);
    }
  }

  @Test
  void withAModelFileLoadedNothingIsSaidAndTheModelAnswers() throws Exception {
    start(env("LOCAL_MODEL_PATH", LlamaServer.stories().toString()));

    assertThat(warnings()).as("a model is up: no hint at start").isEmpty();
    HttpResponse<String> r = chat(); // the local server is down: the in-process model answers as last resort
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-gateway-backend")).contains("local-gguf");
    assertThat(warnings()).isEmpty();
  }
}
