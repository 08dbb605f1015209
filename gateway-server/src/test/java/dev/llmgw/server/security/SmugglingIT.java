package dev.llmgw.server.security;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import dev.llmgw.core.config.Limits;
import dev.llmgw.core.exchange.ExchangeEvents;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.server.GatewayServer;
import dev.llmgw.testkit.TestConfigs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A request-smuggling corpus, sent byte for byte over raw sockets to a gateway in front of WireMock.
 *
 * <p>Every ambiguous framing (Content-Length with Transfer-Encoding, several Content-Lengths,
 * obfuscated or unknown Transfer-Encoding, malformed chunks, bare line endings, HTTP/1.0 with
 * Transfer-Encoding) must get exactly one 400 in the OpenAI error shape, with {@code connection:
 * close}, then the connection must end, and the backend must see nothing — in particular not the
 * second request each of these payloads carries after the ambiguous one ({@link #SMUGGLED}).
 *
 * <p>Framings that are unusual but unambiguous (tab as whitespace, upper-case {@code CHUNKED}, chunk
 * extensions, trailers, pipelining) are served; for those the test asserts what makes them safe: the
 * backend sees exactly the requests the client got a response for, each as a request the gateway
 * built itself (with its own {@code Content-Length}, never a client's framing), and a body never
 * includes bytes of the request that followed. The table in docs/security.md lists every case.
 */
class SmugglingIT {
  static final String BODY = "{\"model\":\"gw-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  /** What the backend receives for {@link #BODY}: the alias rewritten to the backend's model name. */
  static final String UPSTREAM_BODY = "{\"model\":\"backend-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String EMBED_BODY = "{\"model\":\"embed\",\"input\":\"SMUGGLED\"}";
  /** The request hidden after each ambiguous one: it must never reach the backend unless answered. */
  static final String SMUGGLED = "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      + "Content-Length: " + EMBED_BODY.length() + "\r\n\r\n" + EMBED_BODY;
  static final String CHAT_LINE = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  static final String CHUNKED_BODY = Integer.toHexString(BODY.length()) + "\r\n" + BODY + "\r\n0\r\n\r\n";
  static final String CHAT_RESPONSE = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
      + "\"model\":\"backend-model\",\"choices\":[]}";
  static final String EMBED_RESPONSE = "{\"object\":\"list\",\"data\":[],\"model\":\"text-embedding\"}";

  static final String CHAT = "/v1/chat/completions";
  static final String EMBED = "/v1/embeddings";

  static WireMockServer wm;
  static GatewayServer gw;

  @BeforeAll
  static void start() throws Exception {
    wm = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    wm.start();
    wm.stubFor(post(CHAT).willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json").withBody(CHAT_RESPONSE)));
    wm.stubFor(post(EMBED).willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json").withBody(EMBED_RESPONSE)));
    wm.stubFor(any(anyUrl()).atPriority(10).willReturn(aResponse().withStatus(404)));
    gw = new GatewayServer(TestConfigs.oneBackend("http://127.0.0.1:" + wm.port() + "/v1",
        TestConfigs.fastTimeouts(), Limits.defaults()), Transport.best(), 1, dev.llmgw.core.log.RequestLogListener.NOOP).start();
  }

  @AfterAll
  static void stop() {
    gw.stop(Duration.ofMillis(200));
    wm.stop();
  }

  @BeforeEach
  void reset() {
    wm.resetRequests();
  }

  /**
   * One payload and what must come of it.
   *
   * @param statuses     the responses the client must get, in order (and no more)
   * @param closes       whether the gateway must close the connection after the last one
   * @param backendPaths the requests the backend must see, in order (and no more)
   */
  record Case(String id, String raw, List<Integer> statuses, boolean closes, List<String> backendPaths) {
    @Override
    public String toString() {
      return id;
    }
  }

  static Case rejected(String id, String raw) {
    return new Case(id, raw, List.of(400), true, List.of());
  }

  static Stream<Arguments> corpus() {
    int n = BODY.length();
    List<Case> c = new ArrayList<>();
    // ---- ambiguous framing: one 400, connection closed, nothing reaches the backend ----------------
    c.add(rejected("CL+TE", CHAT_LINE + "Content-Length: " + CHUNKED_BODY.length()
        + "\r\nTransfer-Encoding: chunked\r\n\r\n" + CHUNKED_BODY + SMUGGLED));
    c.add(rejected("TE+CL (CL covers only the chunk size line)", CHAT_LINE
        + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" + CHUNKED_BODY + SMUGGLED));
    c.add(rejected("CL:0 + TE", CHAT_LINE + "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n"
        + CHUNKED_BODY + SMUGGLED));
    c.add(rejected("two Content-Length, different values", CHAT_LINE + "Content-Length: " + n
        + "\r\nContent-Length: " + (n + SMUGGLED.length()) + "\r\n\r\n" + BODY + SMUGGLED));
    c.add(rejected("two Content-Length, same value", CHAT_LINE + "Content-Length: " + n + "\r\nContent-Length: " + n
        + "\r\n\r\n" + BODY + SMUGGLED));
    c.add(rejected("Content-Length list 'n, n'", CHAT_LINE + "Content-Length: " + n + ", " + n + "\r\n\r\n"
        + BODY + SMUGGLED));
    c.add(rejected("Content-Length '+n'", CHAT_LINE + "Content-Length: +" + n + "\r\n\r\n" + BODY + SMUGGLED));
    c.add(rejected("Content-Length '-1'", CHAT_LINE + "Content-Length: -1\r\n\r\n" + BODY + SMUGGLED));
    c.add(rejected("Content-Length hex '0x40'", CHAT_LINE + "Content-Length: 0x40\r\n\r\n" + BODY + SMUGGLED));
    c.add(rejected("Content-Length 'nabc'", CHAT_LINE + "Content-Length: " + n + "abc\r\n\r\n" + BODY + SMUGGLED));
    c.add(rejected("Transfer-Encoding: xchunked", CHAT_LINE + "Transfer-Encoding: xchunked\r\n\r\n"
        + CHUNKED_BODY + SMUGGLED));
    c.add(rejected("'Transfer-Encoding : chunked' (space before colon)", CHAT_LINE
        + "Transfer-Encoding : chunked\r\n\r\n" + CHUNKED_BODY + SMUGGLED));
    c.add(rejected("Transfer-Encoding: chunked, identity", CHAT_LINE
        + "Transfer-Encoding: chunked, identity\r\n\r\n" + CHUNKED_BODY + SMUGGLED));
    c.add(rejected("Transfer-Encoding twice (chunked, then identity)", CHAT_LINE
        + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n" + CHUNKED_BODY + SMUGGLED));
    c.add(rejected("Transfer-Encoding:<TAB>chunked + CL framing a smuggled request", CHAT_LINE
        + "Content-Length: " + (5 + SMUGGLED.length()) + "\r\nTransfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n"
        + SMUGGLED));
    c.add(rejected("Transfer-Encoding:<VT>chunked", CHAT_LINE + "Transfer-Encoding:\u000bchunked\r\n\r\n"
        + CHUNKED_BODY + SMUGGLED));
    c.add(rejected("Transfer-Encoding folded onto a continuation line", CHAT_LINE
        + "Transfer-Encoding:\r\n chunked\r\n\r\n" + CHUNKED_BODY + SMUGGLED));
    c.add(rejected("empty Transfer-Encoding + CL", CHAT_LINE + "Transfer-Encoding: \r\nContent-Length: " + n
        + "\r\n\r\n" + BODY + SMUGGLED));
    c.add(rejected("Transfer-Encoding: 'chunked ;'", CHAT_LINE + "Transfer-Encoding: chunked ;\r\n\r\n"
        + CHUNKED_BODY + SMUGGLED));
    c.add(rejected("bad chunk size 'zz'", CHAT_LINE + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + BODY
        + "\r\n0\r\n\r\n" + SMUGGLED));
    c.add(rejected("chunk size overflow", CHAT_LINE + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffff"
        + Integer.toHexString(n) + "\r\n" + BODY + "\r\n0\r\n\r\n" + SMUGGLED));
    c.add(rejected("chunk data longer than its size", CHAT_LINE + "Transfer-Encoding: chunked\r\n\r\n"
        + Integer.toHexString(n - 2) + "\r\n" + BODY + "\r\n0\r\n\r\n" + SMUGGLED));
    c.add(rejected("chunk lines ended by bare LF", CHAT_LINE + "Transfer-Encoding: chunked\r\n\r\n"
        + Integer.toHexString(n) + "\n" + BODY + "\n0\n\n" + SMUGGLED));
    c.add(rejected("bare LF line endings", "POST /v1/chat/completions HTTP/1.1\nHost: x\nContent-Length: " + n
        + "\n\n" + BODY + SMUGGLED));
    c.add(rejected("bare CR inside the header block", CHAT_LINE.replace("Host: x\r\n", "Host: x\rX: y\r\n")
        + "Content-Length: " + n + "\r\n\r\n" + BODY + SMUGGLED));
    c.add(rejected("HTTP/1.0 with Transfer-Encoding", "POST /v1/chat/completions HTTP/1.0\r\nHost: x\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n" + CHUNKED_BODY + SMUGGLED));
    c.add(rejected("NUL in a header value", CHAT_LINE + "X-Note: a\u0000b\r\nContent-Length: " + n + "\r\n\r\n"
        + BODY + SMUGGLED));
    c.add(rejected("space inside a header name", CHAT_LINE + "X Note: a\r\nContent-Length: " + n + "\r\n\r\n"
        + BODY + SMUGGLED));
    c.add(rejected("HTTP/0.9 request line", "GET /healthz\r\n\r\n" + SMUGGLED));
    // ---- CL shorter than what was sent ----------------------------------------------------------------
    c.add(new Case("CL shorter than the JSON, a request appended", CHAT_LINE + "Content-Length: 10\r\n\r\n"
        + BODY + SMUGGLED, List.of(400, 400), true, List.of()));
    c.add(new Case("CL exact, a second request appended (pipelining)", CHAT_LINE + "Content-Length: " + n
        + "\r\n\r\n" + BODY + SMUGGLED, List.of(200, 200), false, List.of(CHAT, EMBED)));
    c.add(new Case("HTTP/1.0 (no keep-alive), a second request appended", "POST /v1/chat/completions HTTP/1.0\r\n"
        + "Host: x\r\nContent-Length: " + n + "\r\n\r\n" + BODY + SMUGGLED, List.of(200), true, List.of(CHAT)));
    c.add(new Case("GET /healthz with a CL body holding a request", "GET /healthz HTTP/1.1\r\nHost: x\r\n"
        + "Content-Length: " + SMUGGLED.length() + "\r\n\r\n" + SMUGGLED, List.of(200), false, List.of()));
    c.add(new Case("GET /healthz with a chunked body holding a request", "GET /healthz HTTP/1.1\r\nHost: x\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(SMUGGLED.length()) + "\r\n" + SMUGGLED
        + "\r\n0\r\n\r\n", List.of(200), false, List.of()));
    // ---- unusual but unambiguous: served, and only as framed -----------------------------------------
    c.add(new Case("Transfer-Encoding:<TAB>chunked (tab is legal whitespace), a request after the last chunk",
        CHAT_LINE + "Transfer-Encoding:\tchunked\r\n\r\n" + CHUNKED_BODY + SMUGGLED, List.of(200, 200), false,
        List.of(CHAT, EMBED)));
    c.add(new Case("Transfer-Encoding: CHUNKED (codings are case-insensitive)", CHAT_LINE
        + "Transfer-Encoding: CHUNKED\r\n\r\n" + CHUNKED_BODY, List.of(200), false, List.of(CHAT)));
    c.add(new Case("Transfer-Encoding: identity, chunked", CHAT_LINE + "Transfer-Encoding: identity, chunked\r\n\r\n"
        + CHUNKED_BODY, List.of(200), false, List.of(CHAT)));
    c.add(new Case("chunk extension ';foo=bar'", CHAT_LINE + "Transfer-Encoding: chunked\r\n\r\n"
        + Integer.toHexString(n) + ";foo=bar\r\n" + BODY + "\r\n0\r\n\r\n", List.of(200), false, List.of(CHAT)));
    c.add(new Case("trailer 'Content-Length: 999' after the last chunk, a request after it", CHAT_LINE
        + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(n) + "\r\n" + BODY
        + "\r\n0\r\nContent-Length: 999\r\n\r\n" + SMUGGLED, List.of(200, 200), false, List.of(CHAT, EMBED)));
    c.add(new Case("obs-fold in an unrelated header", CHAT_LINE + "X-Note: a\r\n b\r\nContent-Length: " + n
        + "\r\n\r\n" + BODY, List.of(200), false, List.of(CHAT)));
    c.add(new Case("empty lines before the request line", "\r\n\r\n" + CHAT_LINE + "Content-Length: " + n
        + "\r\n\r\n" + BODY, List.of(200), false, List.of(CHAT)));
    return c.stream().map(x -> Arguments.of(x));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void corpusCase(Case c) throws Exception {
    List<RawHttp.Response> responses = new ArrayList<>();
    boolean closed;
    try (RawHttp conn = RawHttp.connect(gw.port())) {
      conn.send(c.raw());
      for (int i = 0; i < c.statuses().size(); i++) {
        RawHttp.Response r = conn.read();
        assertThat(r).as(c.id() + ": response " + (i + 1) + " of " + c.statuses().size()).isNotNull();
        responses.add(r);
      }
      closed = conn.closedWithin(c.closes() ? Duration.ofSeconds(3) : Duration.ofMillis(200));
    }
    assertThat(responses).extracting(RawHttp.Response::status).as(c.id()).isEqualTo(c.statuses());
    assertThat(closed).as(c.id() + ": connection closed after the last response").isEqualTo(c.closes());
    for (RawHttp.Response r : responses) {
      if (r.status() >= 400) {
        assertThat(r.header("content-type")).as(c.id()).startsWith("application/json");
        OpenAiErrors.assertShape(r.body(), c.id());
      }
      assertThat(r.header("x-request-id")).as(c.id() + ": every response has a request id").isNotBlank();
    }
    if (c.closes()) {
      assertThat(responses.get(responses.size() - 1).header("connection")).as(c.id()).isEqualToIgnoringCase("close");
    }
    if (c.statuses().equals(List.of(400))) {
      assertThat(responses.get(0).body()).as(c.id()).contains("\"code\":\"bad_request\"");
    }
    // the backend: exactly the expected requests, each rebuilt by the gateway, none carrying foreign bytes
    List<ServeEvent> seen = backendRequests(c.backendPaths().size());
    assertThat(seen).extracting(e -> e.getRequest().getUrl()).as(c.id() + ": backend requests")
        .isEqualTo(c.backendPaths());
    for (ServeEvent e : seen) {
      var req = e.getRequest();
      assertThat(req.containsHeader("Transfer-Encoding")).as(c.id() + ": upstream framing is the gateway's own").isFalse();
      assertThat(req.getHeader("Content-Length")).as(c.id()).isEqualTo(Integer.toString(req.getBody().length));
      if (req.getUrl().equals(CHAT)) {
        assertThat(req.getBodyAsString()).as(c.id() + ": the chat body, nothing appended").isEqualTo(UPSTREAM_BODY);
      } else {
        assertThat(req.getBodyAsString()).contains("\"input\":\"SMUGGLED\"").doesNotContain("POST");
      }
    }
    // each backend request was answered to the client on its own, in order
    List<String> proxied = responses.stream().filter(r -> r.status() == 200 && !r.body().contains("\"status\""))
        .map(RawHttp.Response::body).toList();
    List<String> expectedBodies = c.backendPaths().stream().map(p -> p.equals(CHAT) ? CHAT_RESPONSE : EMBED_RESPONSE)
        .toList();
    assertThat(proxied).as(c.id() + ": one response per backend request, in order").isEqualTo(expectedBodies);
    System.out.printf("SMUGGLING | %s | %s | %s | %d | %s%n", c.id(), responses.stream()
        .map(r -> Integer.toString(r.status())).toList(), closed ? "closed" : "kept open", seen.size(),
        responses.stream().filter(r -> r.status() >= 400).map(RawHttp.Response::body).findFirst().orElse(""));
  }

  /**
   * The host a client names never matters: the upstream request carries the backend's own
   * {@code Host} and goes to the configured backend. (Netty accepts an HTTP/1.1 request without Host,
   * or with two; RFC 9112 §3.2 says a server must answer those with 400. Either answer is safe here,
   * since the gateway routes on config only.)
   */
  @Test
  void hostHeaderNeverSteersTheUpstream() throws Exception {
    String wmHost = "127.0.0.1:" + wm.port();
    for (String hosts : List.of("", "Host: evil.example\r\n", "Host: a.example\r\nHost: evil.example\r\n",
        "Host: 127.0.0.1:1\r\n")) {
      wm.resetRequests();
      String raw = "POST /v1/chat/completions HTTP/1.1\r\n" + hosts + "Content-Type: application/json\r\n"
          + "Content-Length: " + BODY.length() + "\r\n\r\n" + BODY;
      try (RawHttp conn = RawHttp.connect(gw.port())) {
        conn.send(raw);
        RawHttp.Response r = conn.read();
        assertThat(r.status()).as(hosts).isIn(200, 400);
        if (r.status() == 200) {
          List<ServeEvent> seen = backendRequests(1);
          assertThat(seen.get(0).getRequest().getHeader("Host")).as(hosts).isEqualTo(wmHost);
        } else {
          OpenAiErrors.assertShape(r.body(), hosts);
          assertThat(backendRequests(0)).isEmpty();
        }
        System.out.printf("SMUGGLING-HOST | %s | %d%n", hosts.replace("\r\n", "\\r\\n"), r.status());
      }
    }
  }

  /**
   * The size limits (Limits.defaults(): line 8 KiB, headers 16 KiB, body 1 MiB) answer 414, 431 and
   * 413 in the OpenAI shape and close the connection; an oversized body is refused on its declared
   * length, before it is read, and a request pipelined behind it is never served.
   */
  @Test
  void oversizedRequestsAreRefusedAndTheConnectionClosed() throws Exception {
    String longLine = "POST /v1/chat/completions?" + "a".repeat(9 * 1024) + " HTTP/1.1\r\nHost: x\r\n"
        + "Content-Length: " + BODY.length() + "\r\n\r\n" + BODY + SMUGGLED;
    String bigHeaders = CHAT_LINE + "X-Big: " + "b".repeat(17 * 1024) + "\r\nContent-Length: " + BODY.length()
        + "\r\n\r\n" + BODY + SMUGGLED;
    String bigBody = CHAT_LINE + "Content-Length: " + (2 << 20) + "\r\n\r\n" + BODY;
    for (Object[] c : new Object[][] {{longLine, 414, "uri_too_long"}, {bigHeaders, 431, "headers_too_large"},
        {bigBody, 413, "request_too_large"}}) {
      try (RawHttp conn = RawHttp.connect(gw.port())) {
        conn.send((String) c[0]);
        RawHttp.Response r = conn.read();
        assertThat(r.status()).isEqualTo(c[1]);
        assertThat(OpenAiErrors.assertShape(r.body(), c[2].toString()).path("code").asText()).isEqualTo(c[2]);
        assertThat(r.header("connection")).isEqualToIgnoringCase("close");
        assertThat(conn.closedWithin(Duration.ofSeconds(3))).as("closed after %s", c[1]).isTrue();
        System.out.printf("SMUGGLING-LIMITS | %s | %s%n", c[1], r.body());
      }
    }
    assertThat(backendRequests(0)).isEmpty();
  }

  /** Waits until the backend has seen {@code expected} requests and checks no more arrive; oldest first. */
  private static List<ServeEvent> backendRequests(int expected) {
    await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(10))
        .until(() -> wm.getAllServeEvents().size() >= expected);
    await().during(Duration.ofMillis(150)).atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(25))
        .until(() -> wm.getAllServeEvents().size() == expected);
    List<ServeEvent> events = new ArrayList<>(wm.getAllServeEvents());
    Collections.reverse(events); // WireMock lists the newest first
    return events;
  }
}
