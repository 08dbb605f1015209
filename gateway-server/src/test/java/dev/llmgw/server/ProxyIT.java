package dev.llmgw.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import dev.llmgw.core.config.Limits;
import dev.llmgw.core.config.Timeouts;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.testkit.FakeBackend;
import dev.llmgw.testkit.RawBackend;
import dev.llmgw.testkit.TestConfigs;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The proxy path end to end over loopback: gateway in front of WireMock and a programmable backend. */
class ProxyIT {
  static final String CHAT = "{\"model\":\"gw-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String CHAT_STREAM =
      "{\"model\":\"gw-model\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String COMPLETION_JSON = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
      + "\"model\":\"backend-model\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hello\","
      + "\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
      + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}";

  static WireMockServer wm;
  static FakeBackend fake;
  static HttpClient http;
  GatewayServer gw;
  GatewayServer fakeGw;

  @BeforeAll
  static void startBackends() throws Exception {
    wm = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    wm.start();
    fake = new FakeBackend();
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  }

  @AfterAll
  static void stopBackends() {
    wm.stop();
    fake.close();
  }

  @BeforeEach
  void startGateway() throws Exception {
    wm.resetAll();
    Timeouts t = new Timeouts(Duration.ofSeconds(2), Duration.ofMillis(800), Duration.ofMillis(800),
        Duration.ofSeconds(10));
    gw = new GatewayServer(TestConfigs.oneBackend("http://127.0.0.1:" + wm.port() + "/v1", t, Limits.defaults()),
        Transport.best(), 2).start();
    fakeGw = new GatewayServer(TestConfigs.oneBackend(fake.baseUrl(), t, Limits.defaults()), Transport.nio(), 1)
        .start();
  }

  @AfterEach
  void stopGateway() {
    gw.stop(Duration.ofMillis(200));
    fakeGw.stop(Duration.ofMillis(200));
  }

  HttpResponse<String> call(GatewayServer g, String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.port() + path))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer client-key-should-not-travel")
        .header("x-request-id", "rid-42")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(String s) throws Exception {
    return RequestParser.JSON.readTree(s);
  }

  @Test
  void plainChatIsForwardedWithRewrittenModelAndTheProviderKeyOnly() throws Exception {
    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json").withHeader("Set-Cookie", "tracker=1")
        .withHeader("x-ratelimit-remaining-requests", "99").withBody(COMPLETION_JSON)));
    HttpResponse<String> r = call(gw, "/v1/chat/completions", CHAT);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(json(r.body())).isEqualTo(json(COMPLETION_JSON));
    assertThat(r.headers().firstValue("x-request-id")).hasValue("rid-42");
    assertThat(r.headers().firstValue("x-gateway-backend")).hasValue("mock");
    assertThat(r.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("99");
    assertThat(r.headers().firstValue("set-cookie")).isEmpty();
    wm.verify(postRequestedFor(urlEqualTo("/v1/chat/completions"))
        .withHeader("Authorization", equalTo("Bearer " + TestConfigs.PROVIDER_KEY))
        .withHeader("x-request-id", equalTo("rid-42"))
        .withRequestBody(matchingJsonPath("$.model", equalTo("backend-model")))
        .withRequestBody(matchingJsonPath("$.messages[0].content", equalTo("hi"))));
  }

  @Test
  void sameNameModelIsForwardedByteForByte() throws Exception {
    wm.stubFor(post("/v1/completions").willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json").withBody("{\"object\":\"text_completion\"}")));
    String body = "{ \"model\" : \"backend-model\", \"prompt\": \"x\" }";
    assertThat(call(gw, "/v1/completions", body).statusCode()).isEqualTo(200);
    assertThat(wm.getAllServeEvents().get(0).getRequest().getBodyAsString()).isEqualTo(body);
  }

  @Test
  void embeddingsAreForwarded() throws Exception {
    wm.stubFor(post("/v1/embeddings").willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json").withBody("{\"object\":\"list\",\"data\":[]}")));
    HttpResponse<String> r = call(gw, "/v1/embeddings", "{\"model\":\"embed\",\"input\":\"x\"}");
    assertThat(r.statusCode()).isEqualTo(200);
    wm.verify(postRequestedFor(urlEqualTo("/v1/embeddings"))
        .withRequestBody(matchingJsonPath("$.model", equalTo("text-embedding"))));
  }

  @Test
  void streamIsRelayedIntact() throws Exception {
    StringBuilder sse = new StringBuilder();
    for (int i = 0; i < 20; i++) {
      sse.append("data: {\"choices\":[{\"delta\":{\"content\":\"t").append(i).append("\"}}]}\n\n");
    }
    sse.append("data: [DONE]\n\n");
    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "text/event-stream").withBody(sse.toString())
        .withChunkedDribbleDelay(10, 200)));
    HttpResponse<String> r = call(gw, "/v1/chat/completions", CHAT_STREAM);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("text/event-stream");
    assertThat(r.body()).isEqualTo(sse.toString());
  }

  @Test
  void chunksReachTheClientWhileTheBackendIsStillStreaming() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    fake.behave((ex, body) -> {
      OutputStream out = FakeBackend.startSse(ex);
      FakeBackend.event(out, "{\"n\":1}");
      release.await(10, TimeUnit.SECONDS);
      FakeBackend.event(out, "{\"n\":2}");
      FakeBackend.event(out, "[DONE]");
    });
    HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + fakeGw.port() + "/v1/chat/completions"))
        .POST(HttpRequest.BodyPublishers.ofString(CHAT_STREAM)).build(), HttpResponse.BodyHandlers.ofInputStream());
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      assertThat(in.readLine()).isEqualTo("data: {\"n\":1}"); // arrives while the backend is held
      release.countDown();
      assertThat(in.readLine()).isEmpty();
      assertThat(in.readLine()).isEqualTo("data: {\"n\":2}");
    }
  }

  @Test
  void streamCutMidwayEndsWithAnSseErrorAndNoDone() throws Exception {
    try (RawBackend raw = new RawBackend(out -> {
      RawBackend.sseHead(out);
      RawBackend.sseChunk(out, "{\"n\":1}");
      RawBackend.sseChunk(out, "{\"n\":2}");
      // then the connection drops: no terminating chunk, no [DONE]
    })) {
      GatewayServer g = new GatewayServer(TestConfigs.oneBackend(raw.baseUrl()), Transport.best(), 1).start();
      try {
        HttpResponse<String> r = call(g, "/v1/chat/completions", CHAT_STREAM);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("data: {\"n\":1}").contains("data: {\"n\":2}").doesNotContain("[DONE]");
        String last = r.body().trim().substring(r.body().trim().lastIndexOf("data: ") + 6);
        assertThat(json(last).at("/error/code").asText()).isEqualTo("backend_error");
        assertThat(json(last).at("/error/type").asText()).isEqualTo("server_error");
      } finally {
        g.stop(Duration.ofMillis(100));
      }
    }
  }

  @Test
  void aStreamThatGoesQuietPastTheIdleTimeoutEndsWithAnSseError() throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    fake.behave((ex, body) -> {
      OutputStream out = FakeBackend.startSse(ex);
      FakeBackend.event(out, "{\"n\":1}");
      done.await(5, TimeUnit.SECONDS); // then silence, longer than the gateway's 800 ms idle timeout
    });
    long t0 = System.nanoTime();
    HttpResponse<String> r = call(fakeGw, "/v1/chat/completions", CHAT_STREAM);
    done.countDown();
    assertThat(r.body()).contains("{\"n\":1}").doesNotContain("[DONE]");
    String last = r.body().trim().substring(r.body().trim().lastIndexOf("data: ") + 6);
    assertThat(json(last).at("/error/code").asText()).isEqualTo("backend_timeout");
    assertThat(json(last).at("/error/message").asText()).contains("idle");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(2500));
  }

  @Test
  void clientDisconnectClosesTheBackendCall() throws Exception {
    AtomicBoolean backendSawHangUp = new AtomicBoolean();
    CountDownLatch firstSent = new CountDownLatch(1);
    fake.behave((ex, body) -> {
      OutputStream out = FakeBackend.startSse(ex);
      FakeBackend.event(out, "{\"n\":1}");
      firstSent.countDown();
      try {
        for (int i = 0; i < 200; i++) {
          Thread.sleep(25); // the fake backend paces its stream; the test itself waits with Awaitility
          FakeBackend.event(out, "{\"n\":" + i + "}");
        }
      } catch (java.io.IOException e) {
        backendSawHangUp.set(true);
      }
    });
    CompletableFuture<HttpResponse<InputStream>> f = http.sendAsync(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + fakeGw.port() + "/v1/chat/completions"))
        .POST(HttpRequest.BodyPublishers.ofString(CHAT_STREAM)).build(), HttpResponse.BodyHandlers.ofInputStream());
    InputStream in = f.get(5, TimeUnit.SECONDS).body();
    assertThat(firstSent.await(5, TimeUnit.SECONDS)).isTrue();
    in.read();
    in.close(); // the client goes away mid-stream
    await().atMost(Duration.ofSeconds(3)).untilTrue(backendSawHangUp);
  }

  @Test
  void backendErrorsMapToOneOpenAiError() throws Exception {
    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(500).withBody("boom")));
    HttpResponse<String> r = call(gw, "/v1/chat/completions", CHAT);
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(json(r.body()).at("/error/code").asText()).isEqualTo("backend_error");

    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(401)
        .withHeader("Content-Type", "application/json")
        .withBody("{\"error\":{\"message\":\"Incorrect API key provided: sk-test-PROV***6789\",\"type\":"
            + "\"invalid_request_error\",\"code\":\"invalid_api_key\"}}")));
    r = call(gw, "/v1/chat/completions", CHAT);
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(json(r.body()).at("/error/code").asText()).isEqualTo("backend_auth_failed");
    assertThat(r.body()).doesNotContain("sk-test");

    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(400)
        .withHeader("Content-Type", "application/json")
        .withBody("{\"error\":{\"message\":\"bad temperature\",\"type\":\"invalid_request_error\","
            + "\"param\":\"temperature\",\"code\":\"invalid_value\"}}")));
    r = call(gw, "/v1/chat/completions", CHAT);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(json(r.body()).at("/error/param").asText()).isEqualTo("temperature");

    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(429).withBody("{}")));
    r = call(gw, "/v1/chat/completions", CHAT);
    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(json(r.body()).at("/error/code").asText()).isEqualTo("rate_limit_exceeded");
  }

  @Test
  void slowBackendIs504() throws Exception {
    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200).withFixedDelay(3000)
        .withBody(COMPLETION_JSON)));
    long t0 = System.nanoTime();
    HttpResponse<String> r = call(gw, "/v1/chat/completions", CHAT);
    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(json(r.body()).at("/error/code").asText()).isEqualTo("backend_timeout");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(2500));
  }

  @Test
  void unreachableBackendIs502() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    GatewayServer g = new GatewayServer(TestConfigs.oneBackend("http://127.0.0.1:" + closedPort + "/v1"),
        Transport.best(), 1).start();
    try {
      HttpResponse<String> r = call(g, "/v1/chat/completions", CHAT);
      assertThat(r.statusCode()).isEqualTo(502);
      assertThat(json(r.body()).at("/error/code").asText()).isEqualTo("backend_unavailable");
    } finally {
      g.stop(Duration.ofMillis(100));
    }
  }

  @Test
  void resetAndGarbageFromTheBackendAre502() throws Exception {
    for (Fault fault : List.of(Fault.CONNECTION_RESET_BY_PEER, Fault.EMPTY_RESPONSE, Fault.RANDOM_DATA_THEN_CLOSE)) {
      wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withFault(fault)));
      HttpResponse<String> r = call(gw, "/v1/chat/completions", CHAT);
      assertThat(r.statusCode()).as(fault.name()).isEqualTo(502);
      assertThat(json(r.body()).at("/error/type").asText()).isEqualTo("server_error");
    }
  }

  @Test
  void concurrentStreamsAllComplete() throws Exception {
    StringBuilder sse = new StringBuilder();
    for (int i = 0; i < 20; i++) {
      sse.append("data: {\"i\":").append(i).append("}\n\n");
    }
    sse.append("data: [DONE]\n\n");
    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "text/event-stream").withBody(sse.toString()).withChunkedDribbleDelay(5, 50)));
    // what is tested is that every stream arrives whole, not the timeouts: the shared gateway's 800 ms
    // first-byte timeout left too little room for 64 streams under paranoid leak detection on a slow CI
    // machine (they take ~0.5 s here, 2.6 s once there, and some met the timeout)
    Timeouts roomy = new Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(10),
        Duration.ofSeconds(30));
    GatewayServer g = new GatewayServer(TestConfigs.oneBackend("http://127.0.0.1:" + wm.port() + "/v1", roomy,
        Limits.defaults()), Transport.best(), 2).start();
    try {
      List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        all.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.port() + "/v1/chat/completions"))
            .POST(HttpRequest.BodyPublishers.ofString(CHAT_STREAM)).build(), HttpResponse.BodyHandlers.ofString()));
      }
      for (CompletableFuture<HttpResponse<String>> f : all) {
        HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(sse.toString());
      }
    } finally {
      g.stop(Duration.ofMillis(200));
    }
  }

  /**
   * Reads from the backend are paced by the client's writability: a client that stops reading holds
   * the backend back (its writes stall far short of the response instead of the gateway buffering
   * it), the pause outlasts the idle timeout without tripping it (a slow client is not a silent
   * backend), and once the client reads again every event arrives, [DONE] last.
   */
  @Test
  void aClientThatStopsReadingHoldsTheBackendBack() throws Exception {
    int events = 8192;
    String payload = "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + "x".repeat(32 * 1024 - 60) + "\"}}]}";
    long total = (long) events * payload.length();
    AtomicLong written = new AtomicLong();
    try (RawBackend raw = new RawBackend(out -> {
      RawBackend.sseHead(out);
      for (int i = 0; i < events; i++) {
        RawBackend.sseChunk(out, payload);
        written.addAndGet(payload.length());
      }
      RawBackend.sseChunk(out, "[DONE]");
      out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    })) {
      Timeouts t = new Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ofSeconds(60));
      GatewayServer g = new GatewayServer(TestConfigs.oneBackend(raw.baseUrl(), t, Limits.defaults()), Transport.best(), 1)
          .start();
      try (Socket s = new Socket()) {
        s.setReceiveBufferSize(16 * 1024);
        s.connect(new InetSocketAddress("127.0.0.1", g.port()));
        s.setSoTimeout(20_000);
        s.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "Content-Type: application/json\r\nContent-Length: " + CHAT_STREAM.length() + "\r\n\r\n" + CHAT_STREAM)
            .getBytes(StandardCharsets.US_ASCII));

        long[] last = {-1};
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).until(() -> {
          long now = written.get();
          boolean stalled = now > 0 && now == last[0];
          last[0] = now;
          return stalled;
        });
        long stalledAt = written.get();
        System.out.printf("backend stalled after %,d of %,d bytes while the client read nothing%n", stalledAt, total);
        // socket buffers on both sides (autotuned, up to tcp_rmem/tcp_wmem) plus the gateway's write
        // watermark: tens of MiB at most, never the whole 256 MiB
        assertThat(stalledAt).as("bytes the backend could write while the client read nothing").isLessThan(total / 4);
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> written.get() == stalledAt);

        InputStream in = s.getInputStream();
        byte[] buf = new byte[64 * 1024];
        byte[] marker = "data: ".getBytes(StandardCharsets.US_ASCII);
        int matched = 0;
        int seen = 0;
        StringBuilder tail = new StringBuilder();
        while (seen <= events) {
          int n = in.read(buf);
          assertThat(n).as("stream ended after %d events", seen).isPositive();
          for (int i = 0; i < n; i++) {
            byte b = buf[i];
            if (seen > events) { // after the last event's "data: "
              tail.append((char) b);
            }
            matched = b == marker[matched] ? matched + 1 : (b == marker[0] ? 1 : 0);
            if (matched == marker.length) {
              matched = 0;
              seen++;
            }
          }
        }
        while (tail.indexOf("\n\n") < 0) { // the rest of the last event
          int n = in.read(buf);
          assertThat(n).isPositive();
          tail.append(new String(buf, 0, n, StandardCharsets.US_ASCII));
        }
        assertThat(tail.toString()).startsWith("[DONE]\n\n");
        assertThat(written.get()).isEqualTo(total);
      } finally {
        g.stop(Duration.ofMillis(100));
      }
    }
  }

  /**
   * A backend that sends something nobody asked for on a keep-alive connection (here a second
   * response after the first) is out of step: the gateway closes that connection instead of pooling
   * it, so the stray response can never be taken for the answer to the next request.
   */
  @Test
  void aPooledConnectionThatSendsUnaskedForDataIsClosed() throws Exception {
    AtomicInteger conversations = new AtomicInteger();
    AtomicBoolean closedByGateway = new AtomicBoolean();
    byte[] body = COMPLETION_JSON.getBytes(StandardCharsets.UTF_8);
    try (RawBackend raw = RawBackend.conversing(s -> {
      RawBackend.readRequest(s);
      OutputStream out = s.getOutputStream();
      out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      if (conversations.incrementAndGet() == 1) {
        out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        s.setSoTimeout(3_000);
        closedByGateway.set(s.getInputStream().read() == -1);
      }
    })) {
      GatewayServer g = new GatewayServer(TestConfigs.oneBackend(raw.baseUrl()), Transport.best(), 1).start();
      try {
        assertThat(call(g, "/v1/chat/completions", CHAT).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(4)).untilTrue(closedByGateway);
        HttpResponse<String> second = call(g, "/v1/chat/completions", CHAT);
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(json(second.body()).at("/id").asText()).isEqualTo("chatcmpl-1");
        assertThat(conversations.get()).isEqualTo(2);
      } finally {
        g.stop(Duration.ofMillis(100));
      }
    }
  }
}
