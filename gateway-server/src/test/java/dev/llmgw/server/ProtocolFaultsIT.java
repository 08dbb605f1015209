package dev.llmgw.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.llmgw.core.config.Failover;
import dev.llmgw.core.config.Resilience;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.testkit.RawBackend;
import dev.llmgw.testkit.TestConfigs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Answers that look right but are wrong (issue 18), reproduced from outside with raw sockets on both
 * sides: a stream that ends without {@code [DONE]}, the keep-alive connection after a mid-stream error,
 * a 200 whose body is not JSON, and more pipelined requests than the gateway queues.
 */
class ProtocolFaultsIT {
  static final String CHUNK = "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
      + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}";

  WireMockServer wm;
  GatewayServer gw;
  final List<RawBackend> raws = new ArrayList<>();

  @BeforeEach
  void start() {
    wm = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    wm.start();
    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200).withFixedDelay(150)
        .withHeader("Content-Type", "application/json")
        .withBody("{\"id\":\"ok\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
            + "\"message\":{\"role\":\"assistant\",\"content\":\"fine\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}")));
  }

  @AfterEach
  void stop() throws IOException {
    if (gw != null) {
      gw.stop(Duration.ofMillis(200));
    }
    wm.stop();
    for (RawBackend r : raws) {
      r.close();
    }
  }

  RawBackend raw(RawBackend.Script script) throws IOException {
    RawBackend r = new RawBackend(script);
    raws.add(r);
    return r;
  }

  /** A gateway whose "smart" model goes to {@code remote} and falls back to WireMock ("local"). */
  GatewayServer gateway(String remoteUrl) throws InterruptedException {
    gw = new GatewayServer(TestConfigs.failover(remoteUrl, "http://127.0.0.1:" + wm.port() + "/v1",
        Resilience.defaults(), TestConfigs.fastTimeouts(), Failover.defaults()), Transport.best(), 1).start();
    return gw;
  }

  static String request(String model, boolean stream) {
    String body = "{\"model\":\"" + model + "\",\"stream\":" + stream
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: "
        + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
  }

  /** One HTTP/1.1 response read off a socket: status, headers (lower-case), body (de-chunked). */
  record Response(int status, String head, String body) {
    boolean closes() {
      return head.toLowerCase(Locale.ROOT).contains("connection: close");
    }
  }

  static Response read(InputStream in) throws IOException {
    String head = line(in);
    if (head == null) {
      return null;
    }
    int status = Integer.parseInt(head.split(" ")[1]);
    StringBuilder headers = new StringBuilder(head).append('\n');
    long length = -1;
    boolean chunked = false;
    String l;
    while (!(l = line(in)).isEmpty()) {
      headers.append(l).append('\n');
      String lower = l.toLowerCase(Locale.ROOT);
      if (lower.startsWith("content-length:")) {
        length = Long.parseLong(lower.substring(15).trim());
      } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
        chunked = true;
      }
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (chunked) {
      for (int size; (size = Integer.parseInt(line(in).split(";")[0].trim(), 16)) > 0; ) {
        body.write(in.readNBytes(size));
        line(in);
      }
      line(in); // the blank line after the last chunk
    } else if (length >= 0) {
      body.write(in.readNBytes((int) length));
    } else {
      body.write(in.readAllBytes());
    }
    return new Response(status, headers.toString(), body.toString(StandardCharsets.UTF_8));
  }

  static String line(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return c < 0 && b.length() == 0 ? null : b.toString();
  }

  Socket connect() throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), gw.port());
    s.setSoTimeout(10_000);
    return s;
  }

  @Test
  void aStreamThatEndsWithoutDoneEndsWithAnErrorEventAndCountsAsAFailure() throws Exception {
    RawBackend cutClean = raw(out -> {
      RawBackend.sseHead(out);
      RawBackend.sseChunk(out, CHUNK);
      RawBackend.sseChunk(out, CHUNK);
      out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)); // a clean HTTP end, but no [DONE]
    });
    gateway(cutClean.baseUrl());
    try (Socket s = connect()) {
      s.getOutputStream().write(request("big", true).getBytes(StandardCharsets.UTF_8));
      Response r = read(s.getInputStream());
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).contains("Hel").contains("\"error\"").contains("[DONE]").doesNotContain("data: [DONE]");
      System.out.println("[protocol] stream without [DONE] now ends: ..." + r.body().substring(
          Math.max(0, r.body().length() - 220)).replace('\n', ' '));
    }
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> gw.meterRegistry().scrape().matches(
        "(?s).*gateway_requests_total\\{[^}]*outcome=\"stream_error\"[^}]*} 1.0.*"));
  }

  @Test
  void afterAMidStreamErrorTheKeepAliveConnectionServesTheNextRequest() throws Exception {
    RawBackend cut = raw(out -> {
      RawBackend.sseHead(out);
      RawBackend.sseChunk(out, CHUNK);
      out.flush();
      // then the backend goes away mid-stream: no terminating chunk
    });
    gateway(cut.baseUrl());
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      out.write(request("big", true).getBytes(StandardCharsets.UTF_8));
      Response first = read(s.getInputStream());
      assertThat(first.body()).contains("\"error\"");
      assertThat(first.closes()).isFalse();
      out.write(request("local", false).getBytes(StandardCharsets.UTF_8)); // the same socket, reused
      Response second = read(s.getInputStream());
      assertThat(second).as("an answer on the reused connection, not a hang-up").isNotNull();
      assertThat(second.status()).isEqualTo(200);
      assertThat(second.body()).contains("fine");
    }
  }

  @Test
  void aTwoHundredWhoseBodyIsNotJsonFallsBackBeforeTheFirstByte() throws Exception {
    RawBackend html = raw(out -> out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 25"
        + "\r\n\r\n<html>Bad gateway</html>\n").getBytes(StandardCharsets.US_ASCII)));
    gateway(html.baseUrl());
    try (Socket s = connect()) {
      s.getOutputStream().write(request("smart", false).getBytes(StandardCharsets.UTF_8)); // smart -> local
      Response r = read(s.getInputStream());
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).contains("fine");
      assertThat(r.head()).containsIgnoringCase("x-gateway-fallback").contains("malformed_response");
      s.getOutputStream().write(request("big", false).getBytes(StandardCharsets.UTF_8)); // no fallback
      Response noFallback = read(s.getInputStream());
      assertThat(noFallback.status()).isEqualTo(502);
      assertThat(noFallback.body()).contains("not a well-formed JSON object");
    }
  }

  @Test
  void pipelinedRequestsBeyondTheQueueAreAnsweredInOrderThenRefused() throws Exception {
    gateway("http://127.0.0.1:9/v1");
    try (Socket s = connect()) {
      StringBuilder seven = new StringBuilder();
      for (int i = 0; i < 7; i++) {
        seven.append(request("local", false));
      }
      s.getOutputStream().write(seven.toString().getBytes(StandardCharsets.UTF_8));
      List<Integer> statuses = new ArrayList<>();
      Response r;
      while ((r = read(s.getInputStream())) != null) {
        statuses.add(r.status());
        if (r.status() == 429) {
          assertThat(r.body()).contains("too_many_pipelined_requests");
          assertThat(r.closes()).isTrue();
        }
      }
      System.out.println("[protocol] 7 pipelined requests: " + statuses);
      // one in flight and 4 queued are answered, in order; the 6th is refused; the 7th never read
      assertThat(statuses).containsExactly(200, 200, 200, 200, 200, 429);
    }
    assertThat(wm.getAllServeEvents()).hasSize(5);
  }

  static final String USAGE_ONLY = "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
      + "\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12}}";

  static void wholeStream(java.io.OutputStream out, String... events) throws IOException {
    RawBackend.sseHead(out);
    for (String e : events) {
      RawBackend.sseChunk(out, e);
    }
    RawBackend.sseChunk(out, "[DONE]");
    out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void anHttp10ClientGetsNoChunkedCodingButALengthOrAClose() throws Exception {
    RawBackend stream = raw(out -> wholeStream(out, CHUNK, CHUNK, USAGE_ONLY));
    gateway(stream.baseUrl());
    try (Socket s = connect()) {
      s.getOutputStream().write(request("big", true).replace("HTTP/1.1", "HTTP/1.0")
          .getBytes(StandardCharsets.UTF_8));
      Response r = read(s.getInputStream()); // no length, not chunked: read to the close
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.head().toLowerCase(Locale.ROOT)).doesNotContain("transfer-encoding").contains("connection: close");
      assertThat(r.body()).contains("Hel").contains("data: [DONE]").doesNotContain("\"choices\":[]");
    }
    RawBackend sized = raw(out -> out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2"
        + "\r\n\r\n{}").getBytes(StandardCharsets.US_ASCII)));
    gw.stop(Duration.ofMillis(200));
    gateway(sized.baseUrl());
    try (Socket s = connect()) { // a JSON answer of known length keeps its Content-Length (and keep-alive)
      s.getOutputStream().write(request("big", false).replace("HTTP/1.1", "HTTP/1.0")
          .replace("Host: gw", "Host: gw\r\nConnection: keep-alive").getBytes(StandardCharsets.UTF_8));
      Response r = read(s.getInputStream());
      assertThat(r.head().toLowerCase(Locale.ROOT)).doesNotContain("transfer-encoding").contains("content-length: 2");
      assertThat(r.body()).isEqualTo("{}");
    }
  }

  @Test
  void aGzipBodyFromABackendThatIgnoresIdentityIsDecodedAndMetered() throws Exception {
    byte[] json = ("{\"id\":\"g\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
        + "\"message\":{\"role\":\"assistant\",\"content\":\"zipped\"},\"finish_reason\":\"stop\"}],"
        + "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":13,\"total_tokens\":24}}").getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream zipped = new ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(zipped)) {
      z.write(json);
    }
    byte[] gz = zipped.toByteArray();
    RawBackend gzip = raw(out -> {
      out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: "
          + gz.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(gz);
    });
    gateway(gzip.baseUrl());
    try (Socket s = connect()) {
      s.getOutputStream().write(request("big", false).getBytes(StandardCharsets.UTF_8));
      Response r = read(s.getInputStream());
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.head().toLowerCase(Locale.ROOT)).doesNotContain("content-encoding");
      assertThat(r.body()).isEqualTo(new String(json, StandardCharsets.UTF_8));
    }
    // metered from the decoded body (was: tokens_out 0), once the exchange is recorded after the answer
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> gw.meterRegistry().scrape().matches(
        "(?s).*gen_ai_client_token_usage_total\\{[^}]*estimated=\"false\"[^}]*type=\"output\"[^}]*} 13.0.*"));
  }

  @Test
  void theUsageEventTheClientDidNotAskForStaysOutAfterAnEventAboveOneMebibyte() throws Exception {
    String huge = CHUNK.replace("Hel", "x".repeat(2 * 1024 * 1024));
    RawBackend stream = raw(out -> wholeStream(out, CHUNK, huge, CHUNK, USAGE_ONLY));
    gateway(stream.baseUrl());
    try (Socket s = connect()) {
      s.getOutputStream().write(request("big", true).getBytes(StandardCharsets.UTF_8));
      Response r = read(s.getInputStream());
      assertThat(r.body().length()).isGreaterThan(2 * 1024 * 1024);
      assertThat(r.body()).endsWith("data: [DONE]\n\n").doesNotContain("\"choices\":[]");
    }
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> gw.meterRegistry().scrape().matches(
        "(?s).*gen_ai_client_token_usage_total\\{[^}]*estimated=\"false\"[^}]*type=\"output\"[^}]*} 7.0.*"));
  }
}
