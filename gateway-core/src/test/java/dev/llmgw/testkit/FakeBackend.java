package dev.llmgw.testkit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A programmable OpenAI-compatible backend on 127.0.0.1 for the cases WireMock cannot script:
 * streams held open between chunks, streams cut after N chunks, writes that observe the gateway
 * hanging up. Each test sets a {@link Behavior}.
 */
public final class FakeBackend implements AutoCloseable {

  /** What the backend does with one request. */
  @FunctionalInterface
  public interface Behavior {
    void handle(HttpExchange exchange, String body) throws Exception;
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private volatile Behavior behavior = (ex, body) -> json(ex, 200, "{}");
  public final CopyOnWriteArrayList<String> bodies = new CopyOnWriteArrayList<>();
  public final CopyOnWriteArrayList<Throwable> errors = new CopyOnWriteArrayList<>();

  public FakeBackend() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    server.createContext("/", ex -> {
      try (ex) {
        String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        bodies.add(body);
        behavior.handle(ex, body);
      } catch (Exception e) {
        errors.add(e);
      }
    });
    server.setExecutor(executor);
    server.start();
  }

  public void behave(Behavior b) {
    this.behavior = b;
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  public static void json(HttpExchange ex, int status, String json) throws IOException {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length);
    ex.getResponseBody().write(b);
  }

  /** Starts a chunked event stream; write events with {@link #event}. */
  public static OutputStream startSse(HttpExchange ex) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "text/event-stream");
    ex.sendResponseHeaders(200, 0);
    return ex.getResponseBody();
  }

  public static void event(OutputStream out, String data) throws IOException {
    out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
