package dev.llmgw.testkit;

import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Redis ({@code redis-server} from Debian's package, installed by {@code .ci/run}) on a free
 * loopback port, without persistence, in its own temporary directory. Stopped by PID; {@link #kill()}
 * ends it with SIGKILL and {@link #restart()} starts a fresh one on the same port (fault tests).
 *
 * <p>One per test class: {@code @RegisterExtension static final RedisServer redis = RedisServer.perClass();}
 * starts before the class's first test and stops after its last.
 */
public final class RedisServer implements AutoCloseable, BeforeAllCallback, AfterAllCallback {
  private final int port;
  private final Path dir;
  private Process process;

  private RedisServer(int port, Path dir) {
    this.port = port;
    this.dir = dir;
  }

  public static RedisServer start() throws Exception {
    RedisServer r = perClass();
    r.launch();
    return r;
  }

  /** Not started yet: registered as an extension, it runs for the test class's life. */
  public static RedisServer perClass() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return new RedisServer(s.getLocalPort(), Files.createTempDirectory("redis-test"));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    launch();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    close();
  }

  private void launch() throws Exception {
    File log = dir.resolve("redis.log").toFile();
    process = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--protected-mode", "yes")
        .redirectErrorStream(true).redirectOutput(log).start();
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).ignoreExceptions().until(() -> {
      if (!process.isAlive()) {
        throw new IllegalStateException("redis-server exited: " + Files.readString(log.toPath()));
      }
      return "+PONG".equals(command("PING"));
    });
  }

  /** Sends one inline command and returns the first reply line (tests only). */
  public String command(String line) throws Exception {
    return send(line, RedisServer::readLine);
  }

  /** A command whose reply is one bulk string (e.g. {@code CLIENT LIST}): its whole text. */
  public String bulkCommand(String line) throws Exception {
    return send(line, in -> {
      String head = readLine(in);
      if (head.isEmpty() || head.charAt(0) != '$') {
        throw new IllegalStateException("not a bulk reply: " + head);
      }
      return new String(in.readNBytes(Integer.parseInt(head.substring(1))), StandardCharsets.UTF_8);
    });
  }

  private interface Reply {
    String read(InputStream in) throws IOException;
  }

  private String send(String line, Reply reply) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
      s.setSoTimeout(2000);
      OutputStream out = s.getOutputStream();
      out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      return reply.read(s.getInputStream());
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** SIGKILL: Redis vanishes mid-conversation. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** A fresh, empty Redis on the same port. */
  public void restart() throws Exception {
    if (process.isAlive()) {
      kill();
    }
    launch();
  }

  @Override
  public void close() throws Exception {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
