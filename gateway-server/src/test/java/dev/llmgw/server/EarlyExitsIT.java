package dev.llmgw.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.llmgw.core.config.Access;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.Limits;
import dev.llmgw.core.log.RequestLog;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.testkit.TestConfigs;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every request that ends before the gateway could route it — a malformed head (400), one not
 * received in time (408), a body over the cap (413), a request line or headers over their caps (414,
 * 431) — is recorded exactly once like any other: one completion event (the access-log line and the
 * request counter hang off it) with its status, and one count in {@code gateway_requests_total}.
 */
class EarlyExitsIT {
  final List<RequestLog> completed = new CopyOnWriteArrayList<>();
  /** What the access logger is given (batches of lines, one event per batch). */
  final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> accessLines =
      new ch.qos.logback.core.read.ListAppender<>();

  List<String> accessLogLines() {
    return accessLines.list.stream().flatMap(e -> e.getFormattedMessage().lines()).toList();
  }
  GatewayServer gw;

  @BeforeEach
  void start() throws InterruptedException {
    GatewayConfig base = TestConfigs.oneBackend("http://127.0.0.1:9/v1", TestConfigs.fastTimeouts(),
        new Limits(1024, 2048, 512, Duration.ofSeconds(30), 4096));
    GatewayConfig config = base.withAccess(new Access(true, null, false, Map.of(), Map.of(),
        new Access.ConnectionLimits(100, Duration.ofMillis(400))));
    accessLines.start();
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("access")).addAppender(accessLines);
    gw = new GatewayServer(config, Transport.best(), 1, completed::add).start();
  }

  @AfterEach
  void stop() {
    gw.stop(Duration.ofMillis(200));
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("access")).detachAppender(accessLines);
  }

  /** Sends raw bytes, returns the status line's code (the connection closes after each of these). */
  int send(String raw) throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), gw.port())) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      String status = new String(in.readNBytes(12), StandardCharsets.ISO_8859_1);
      return Integer.parseInt(status.substring(9, 12));
    }
  }

  @Test
  void eachEarlyExitIsRecordedExactlyOnceWithItsStatus() throws Exception {
    String body = "{\"model\":\"gw-model\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(2000) + "\"}]}";
    int[][] cases = {
        {400, send("POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\nContent-Length: abc\r\n\r\n")},
        {408, send("POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\nContent-Length: 10\r\n\r\n{")},
        {413, send("POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\n"
            + "Content-Length: " + body.length() + "\r\n\r\n" + body)},
        {414, send("GET /" + "a".repeat(1000) + " HTTP/1.1\r\nHost: g\r\n\r\n")},
        {431, send("GET /healthz HTTP/1.1\r\nHost: g\r\nX-Big: " + "b".repeat(4000) + "\r\n\r\n")}};
    for (int[] c : cases) {
      assertThat(c[1]).isEqualTo(c[0]);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> completed.size() >= 5);
    for (int[] c : cases) {
      assertThat(completed).as("records with status %d", c[0]).filteredOn(l -> l.status() == c[0]).hasSize(1)
          .allSatisfy(l -> assertThat(l.outcome()).isEqualTo(dev.llmgw.core.log.Outcome.INVALID));
    }
    assertThat(completed).hasSize(5);
    await().atMost(Duration.ofSeconds(2)).until(() -> accessLogLines().size() >= 5);
    for (int[] c : cases) {
      assertThat(accessLogLines()).as("access-log lines with status %d", c[0])
          .filteredOn(l -> l.contains(" status=" + c[0] + " outcome=invalid")).hasSize(1);
    }
    assertThat(accessLogLines()).hasSize(5);
    String metrics = gw.meterRegistry().scrape();
    long counted = metrics.lines().filter(l -> l.startsWith("gateway_requests_total{"))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    System.out.println("[early-exits] records by status: " + completed.stream().map(RequestLog::status).toList()
        + ", gateway_requests_total sum " + counted);
    assertThat(counted).isEqualTo(5);
  }
}
