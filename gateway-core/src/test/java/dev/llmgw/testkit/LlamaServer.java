package dev.llmgw.testkit;

import static org.awaitility.Awaitility.await;

import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real llama.cpp server ({@code ../shared/llama/start.sh} with the tiny GGUF model) on a free
 * loopback port, for tests that need a real local model. Stopped by PID ({@code start.sh} execs the
 * server, so the process is the server itself).
 */
public final class LlamaServer implements AutoCloseable {
  private final Process process;
  private final int port;

  private LlamaServer(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** The shared folder beside the project root ({@code -Dshared.dir} overrides). */
  public static Path shared() {
    String p = System.getProperty("shared.dir");
    if (p != null) {
      return Path.of(p);
    }
    Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      Path candidate = d.resolve("shared");
      if (Files.isDirectory(candidate.resolve("llama"))) {
        return candidate;
      }
      Path sibling = d.resolveSibling("shared");
      if (Files.isDirectory(sibling.resolve("llama"))) {
        return sibling;
      }
    }
    throw new IllegalStateException("../shared/llama not found from " + dir);
  }

  /** Starts the server and waits until {@code /health} answers ok (up to 90 s: the first start unpacks it). */
  public static LlamaServer start() throws Exception {
    return start(shared().resolve("llama/models/llama-2-tiny-random.gguf"));
  }

  /** The TinyStories model (260K parameters, real text, no chat template): {@code stories260K.gguf}. */
  public static Path stories() {
    return shared().resolve("llama/models/stories260K.gguf").toAbsolutePath();
  }

  /** Starts the server with another model file and extra {@code llama-server} arguments. */
  public static LlamaServer start(Path model, String... args) throws Exception {
    Path start = shared().resolve("llama/start.sh");
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    File log = Files.createTempFile("llama-server", ".log").toFile();
    java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(start.toString(), model.toString(),
        Integer.toString(port)));
    command.addAll(java.util.List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
    LlamaServer server = new LlamaServer(p, port);
    HttpClient http = HttpClient.newHttpClient();
    try {
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
          .until(() -> {
            if (!p.isAlive()) {
              throw new IllegalStateException("llama-server exited: " + Files.readString(log.toPath()));
            }
            return http.send(HttpRequest.newBuilder(URI.create(server.url() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString()).body().contains("\"ok\"");
          });
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
    return server;
  }

  public String url() {
    return "http://127.0.0.1:" + port;
  }

  /** The OpenAI-compatible base URL ({@code .../v1}). */
  public String baseUrl() {
    return url() + "/v1";
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(5, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
