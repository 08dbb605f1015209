package dev.llmgw.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import dev.llmgw.core.config.Failover;
import dev.llmgw.core.config.Resilience;
import dev.llmgw.core.config.Timeouts;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.testkit.LlamaServer;
import dev.llmgw.testkit.RawBackend;
import dev.llmgw.testkit.TestConfigs;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Failure-cost control end to end: a remote backend that rate-limits, hangs, errors or breaks, and a
 * local backend that keeps the system answering. The headline cases use a real llama.cpp server as
 * the local model; the rest use a second WireMock so that calls can be counted.
 */
class FailoverIT {
  static final String SMART = "{\"model\":\"smart\",\"max_tokens\":8,"
      + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
  static final String OK_JSON = "{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\","
      + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"from-local\",\"refusal\":null},"
      + "\"logprobs\":null,\"finish_reason\":\"stop\"}]}";

  static LlamaServer llama;
  static WireMockServer remote;
  static WireMockServer local;
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  GatewayServer gw;

  @BeforeAll
  static void startBackends() throws Exception {
    llama = LlamaServer.start();
    remote = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort().containerThreads(64));
    remote.start();
    local = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    local.start();
  }

  @AfterAll
  static void stopBackends() throws Exception {
    remote.stop();
    local.stop();
    llama.close();
  }

  @BeforeEach
  void reset() {
    remote.resetAll();
    local.resetAll();
    local.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json").withBody(OK_JSON)));
  }

  @AfterEach
  void stopGateway() {
    if (gw != null) {
      gw.stop(Duration.ofMillis(200));
    }
  }

  static Resilience noRetry() {
    Resilience d = Resilience.defaults();
    return new Resilience(d.maxConcurrent(), null, d.breaker(), new Resilience.Retry(1, Duration.ofMillis(50), 2,
        Duration.ofMillis(100)), null);
  }

  static Timeouts remoteTimeouts(Duration ttfb) {
    return new Timeouts(Duration.ofSeconds(1), ttfb, Duration.ofSeconds(2), Duration.ofSeconds(10));
  }

  GatewayServer gateway(String localUrl, Resilience r, Timeouts t, Failover f) throws Exception {
    gw = new GatewayServer(TestConfigs.failover("http://127.0.0.1:" + remote.port() + "/v1", localUrl, r, t, f),
        Transport.best(), 2).start();
    return gw;
  }

  GatewayServer gateway(Resilience r) throws Exception {
    return gateway("http://127.0.0.1:" + local.port() + "/v1", r, remoteTimeouts(Duration.ofSeconds(2)),
        Failover.defaults());
  }

  static HttpResponse<String> send(GatewayServer g, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.port() + "/v1/chat/completions"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(String s) throws Exception {
    return RequestParser.JSON.readTree(s);
  }

  @Test
  void remoteRateLimitIsAnsweredByTheRealLocalModel() throws Exception {
    remote.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(429)
        .withHeader("Content-Type", "application/json")
        .withBody("{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}")));
    gateway(llama.baseUrl(), noRetry(), remoteTimeouts(Duration.ofSeconds(2)), Failover.defaults());
    HttpResponse<String> r = send(gw, SMART);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(json(r.body()).at("/choices/0/message/content").asText()).isNotEmpty();
    assertThat(json(r.body()).get("model").asText()).endsWith(".gguf"); // llama.cpp answered
    assertThat(r.headers().firstValue("x-gateway-backend")).hasValue("local");
    assertThat(r.headers().firstValue("x-gateway-fallback")).hasValue("remote=rate_limited");
    assertThat(r.headers().firstValue("x-gateway-attempts")).hasValue("2");
    remote.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions")));
  }

  @Test
  void remoteHangingPastItsTimeoutIsAnsweredByTheRealLocalModel() throws Exception {
    remote.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200).withFixedDelay(5000)
        .withBody(OK_JSON)));
    gateway(llama.baseUrl(), noRetry(), remoteTimeouts(Duration.ofMillis(500)), Failover.defaults());
    long t0 = System.nanoTime();
    HttpResponse<String> r = send(gw, SMART.replace("\"max_tokens\":8,", "\"max_tokens\":8,\"stream\":true,"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("chat.completion.chunk").endsWith("data: [DONE]\n\n");
    assertThat(r.headers().firstValue("x-gateway-backend")).hasValue("local");
    assertThat(r.headers().firstValue("x-gateway-fallback")).hasValue("remote=ttfb_timeout");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(3000));
  }

  @Test
  void rateLimitStormWithRetryAfterIsBoundedAndHonoured() throws Exception {
    remote.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(429)
        .withHeader("Retry-After", "1").withBody("{}")));
    Resilience d = Resilience.defaults();
    Resilience r = new Resilience(d.maxConcurrent(), null, new Resilience.Breaker(1000, 1000, 100f,
        Duration.ofSeconds(60), 100f, Duration.ofSeconds(1), 1), new Resilience.Retry(2, Duration.ofMillis(100), 2,
        Duration.ofSeconds(1)), null);
    gateway("http://127.0.0.1:" + local.port() + "/v1", r, remoteTimeouts(Duration.ofSeconds(2)),
        new Failover(Duration.ofSeconds(10), 3, Duration.ofSeconds(2)));
    int n = 40;
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
          .header("x-request-id", "storm-" + i).POST(HttpRequest.BodyPublishers.ofString(SMART)).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> f : all) {
      HttpResponse<String> resp = f.get(20, TimeUnit.SECONDS);
      assertThat(resp.statusCode()).isEqualTo(200); // exactly one response each, answered locally
      assertThat(resp.headers().firstValue("x-gateway-attempts")).hasValue("3");
    }
    // bounded: two tries on the remote per request (retry.maxAttempts 2), never more
    List<ServeEvent> events = remote.getAllServeEvents();
    assertThat(events).hasSize(2 * n);
    local.verify(n, postRequestedFor(urlEqualTo("/v1/chat/completions")));
    // honoured: each request's second remote try came at least Retry-After (1 s) after its first
    Map<String, List<ServeEvent>> byRequest = events.stream()
        .collect(Collectors.groupingBy(e -> e.getRequest().getHeader("x-request-id")));
    for (List<ServeEvent> tries : byRequest.values()) {
      tries.sort(Comparator.comparing(e -> e.getRequest().getLoggedDate()));
      long gapMs = tries.get(1).getRequest().getLoggedDate().getTime() - tries.get(0).getRequest().getLoggedDate().getTime();
      assertThat(gapMs).isGreaterThanOrEqualTo(950);
    }
  }

  @Test
  void retryAfterLongerThanTheCapFallsBackAtOnce() throws Exception {
    remote.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(429)
        .withHeader("Retry-After", "30").withBody("{}")));
    gateway(Resilience.defaults());
    long t0 = System.nanoTime();
    HttpResponse<String> r = send(gw, SMART);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-gateway-backend")).hasValue("local");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
    remote.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions")));
  }

  @Test
  void callerFaultIsNotRetriedNorFallenBackNorCountedAgainstTheBackend() throws Exception {
    remote.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(400)
        .withHeader("Content-Type", "application/json")
        .withBody("{\"error\":{\"message\":\"bad temperature\",\"type\":\"invalid_request_error\","
            + "\"param\":\"temperature\",\"code\":null}}")));
    gateway(Resilience.defaults());
    for (int i = 0; i < 15; i++) {
      HttpResponse<String> r = send(gw, SMART);
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(json(r.body()).at("/error/param").asText()).isEqualTo("temperature");
    }
    local.verify(0, postRequestedFor(urlEqualTo("/v1/chat/completions")));
    remote.verify(15, postRequestedFor(urlEqualTo("/v1/chat/completions")));
    CircuitBreaker cb = breaker("remote");
    assertThat(cb.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(cb.getMetrics().getNumberOfFailedCalls()).isZero();
  }

  @Test
  void breakerOpensAndTheBrokenBackendIsSkipped() throws Exception {
    remote.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(503).withBody("down")));
    Resilience d = Resilience.defaults();
    Resilience r = new Resilience(d.maxConcurrent(), null, new Resilience.Breaker(10, 5, 50f, Duration.ofSeconds(60),
        100f, Duration.ofSeconds(60), 1), new Resilience.Retry(1, Duration.ofMillis(10), 2, Duration.ofMillis(10)),
        null);
    gateway(r);
    for (int i = 0; i < 5; i++) {
      assertThat(send(gw, SMART).headers().firstValue("x-gateway-fallback")).hasValue("remote=overloaded");
    }
    assertThat(breaker("remote").getState()).isEqualTo(CircuitBreaker.State.OPEN);
    HttpResponse<String> r6 = send(gw, SMART);
    assertThat(r6.statusCode()).isEqualTo(200);
    assertThat(r6.headers().firstValue("x-gateway-fallback")).hasValue("remote=unavailable");
    assertThat(r6.headers().firstValue("x-gateway-attempts")).hasValue("1");
    remote.verify(5, postRequestedFor(urlEqualTo("/v1/chat/completions")));
  }

  @Test
  void providerAuthFailureFallsBackWithoutLeakingTheBody() throws Exception {
    remote.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(401)
        .withBody("{\"error\":{\"message\":\"Incorrect API key provided: sk-test-PROV***\"}}")));
    gateway(Resilience.defaults());
    HttpResponse<String> r = send(gw, SMART);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-gateway-fallback")).hasValue("remote=provider_auth");
    remote.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions"))); // never retried
  }

  @Test
  void everyCandidateFailingAnswersOneErrorWithTheTrail() throws Exception {
    remote.stubFor(post("/v1/chat/completions").willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
    local.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(500).withBody("{}")));
    gateway(noRetry());
    HttpResponse<String> r = send(gw, SMART);
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(json(r.body()).at("/error/code").asText()).isEqualTo("backend_error");
    assertThat(r.headers().firstValue("x-gateway-fallback")).hasValue("remote=connect_failure, local=overloaded");
  }

  @Test
  void contextOverflowFallsBackOnlyToALargerContext() throws Exception {
    local.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(400)
        .withHeader("Content-Type", "application/json")
        .withBody("{\"error\":{\"code\":400,\"message\":\"the request exceeds the available context size\","
            + "\"type\":\"exceed_context_size_error\"}}")));
    remote.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json").withBody(OK_JSON)));
    gateway(Resilience.defaults());
    // small-first: local (2048) → smart (8000) → big → huge; the overflow skips nothing larger
    HttpResponse<String> r = send(gw, SMART.replace("\"smart\"", "\"small-first\""));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-gateway-backend")).hasValue("remote");
    assertThat(r.headers().firstValue("x-gateway-fallback")).hasValue("local=context_length");
    // with no larger model left, the client gets the 400
    local.resetAll();
    local.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(400)
        .withBody("{\"error\":{\"message\":\"maximum context length is 2048 tokens\"}}")));
    HttpResponse<String> r2 = send(gw, SMART.replace("\"smart\"", "\"local\""));
    assertThat(r2.statusCode()).isEqualTo(400);
    assertThat(json(r2.body()).at("/error/code").asText()).isEqualTo("context_length_exceeded");
  }

  @Test
  void aHeadWithoutABodyIsStillBeforeTheBoundary() throws Exception {
    try (RawBackend raw = new RawBackend(out -> out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII)))) {
      gw = new GatewayServer(TestConfigs.failover(raw.baseUrl(), "http://127.0.0.1:" + local.port() + "/v1", noRetry(),
          remoteTimeouts(Duration.ofSeconds(2)), Failover.defaults()), Transport.best(), 1).start();
      HttpResponse<String> r = send(gw, SMART);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("from-local");
      assertThat(r.headers().firstValue("x-gateway-fallback")).hasValue("remote=malformed_response");
    }
  }

  @Test
  void afterTheFirstByteThereIsNoFallback() throws Exception {
    try (RawBackend raw = new RawBackend(out -> {
      RawBackend.sseHead(out);
      RawBackend.sseChunk(out, "{\"n\":1}");
    })) {
      gw = new GatewayServer(TestConfigs.failover(raw.baseUrl(), "http://127.0.0.1:" + local.port() + "/v1", noRetry(),
          remoteTimeouts(Duration.ofSeconds(2)), Failover.defaults()), Transport.best(), 1).start();
      HttpResponse<String> r = send(gw, SMART);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("{\"n\":1}").contains("\"error\"").doesNotContain("[DONE]");
      local.verify(0, postRequestedFor(urlEqualTo("/v1/chat/completions")));
    }
  }

  @Test
  void clientLeavingDuringARetryWaitEndsTheRequest() throws Exception {
    remote.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(429)
        .withHeader("Retry-After", "1").withBody("{}")));
    List<dev.llmgw.core.log.RequestLog> completed = new java.util.concurrent.CopyOnWriteArrayList<>();
    gw = new GatewayServer(TestConfigs.failover("http://127.0.0.1:" + remote.port() + "/v1",
        "http://127.0.0.1:" + local.port() + "/v1", Resilience.defaults(), remoteTimeouts(Duration.ofSeconds(2)),
        new Failover(Duration.ofSeconds(10), 4, Duration.ofSeconds(3))), Transport.best(), 1,
        completed::add).start();
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", gw.port())) {
      s.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + SMART.length() + "\r\n\r\n" + SMART).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      await().atMost(Duration.ofSeconds(3)).until(() -> remote.getAllServeEvents().size() == 1);
    } // the client hangs up while the gateway waits out Retry-After
    await().atMost(Duration.ofSeconds(1)).until(() -> completed.size() == 1);
    assertThat(completed.get(0).outcome()).isEqualTo(dev.llmgw.core.log.Outcome.CLIENT_GONE);
    // nothing more happens for that request: no retry after the wait, no fallback
    await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(2)).until(() ->
        remote.getAllServeEvents().size() == 1 && local.getAllServeEvents().isEmpty());
    assertThat(gw.guards().all()).allSatisfy(g ->
        assertThat(g.bulkhead().getMetrics().getAvailableConcurrentCalls()).isEqualTo(g.spec().resilience().maxConcurrent()));
  }

  @Test
  void failingHealthChecksTakeABackendOutAndBackIn() throws Exception {
    remote.stubFor(com.github.tomakehurst.wiremock.client.WireMock.get("/v1/models")
        .willReturn(aResponse().withStatus(500)));
    Resilience d = Resilience.defaults();
    Resilience r = new Resilience(d.maxConcurrent(), null, d.breaker(), d.retry(),
        new Resilience.HealthCheck("/models", Duration.ofMillis(100), Duration.ofMillis(80), 2, 2));
    gateway(r);
    await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> {
      HttpResponse<String> ready = HTTP.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + gw.port() + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(json(ready.body()).at("/backends/0/healthy").asBoolean()).isFalse();
    });
    HttpResponse<String> r1 = send(gw, SMART);
    assertThat(r1.statusCode()).isEqualTo(200);
    assertThat(r1.headers().firstValue("x-gateway-fallback")).hasValue("remote=unavailable");
    remote.verify(0, postRequestedFor(urlEqualTo("/v1/chat/completions")));
    // the check carries the provider key, as the backend expects
    assertThat(remote.getAllServeEvents().get(0).getRequest().getHeader("Authorization"))
        .isEqualTo("Bearer " + TestConfigs.PROVIDER_KEY);

    remote.stubFor(com.github.tomakehurst.wiremock.client.WireMock.get("/v1/models")
        .willReturn(aResponse().withStatus(200).withBody("{\"object\":\"list\",\"data\":[]}")));
    remote.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json").withBody(OK_JSON)));
    await().atMost(Duration.ofSeconds(3)).untilAsserted(() ->
        assertThat(send(gw, SMART).headers().firstValue("x-gateway-backend")).hasValue("remote"));
  }

  private CircuitBreaker breaker(String backend) {
    return gw.guards().all().stream().filter(g -> g.spec().name().equals(backend)).findFirst().orElseThrow().breaker();
  }
}
