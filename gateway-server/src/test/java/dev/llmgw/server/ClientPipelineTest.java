package dev.llmgw.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.config.Limits;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.upstream.BackendPools;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.server.http.LocalEndpoints;
import dev.llmgw.testkit.TestConfigs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client pipeline on an {@link EmbeddedChannel}: every answer the gateway gives without a
 * backend (bad input, unknown paths and models, limits, local endpoints), byte for byte, with every
 * buffer accounted for.
 */
class ClientPipelineTest {
  private static final BackendPools POOLS = new BackendPools(Transport.nio());
  private EmbeddedChannel ch;

  @BeforeEach
  void setUp() {
    Limits limits = new Limits(1024, 4096, 256, Duration.ofSeconds(60), 4096);
    GatewaySnapshot snapshot = GatewaySnapshot.of(
        TestConfigs.oneBackend("http://127.0.0.1:9/v1", TestConfigs.fastTimeouts(), limits));
    ch = new EmbeddedChannel(new GatewayChannelInitializer(() -> snapshot,
        new dev.llmgw.core.exchange.ExchangeServices(POOLS, new dev.llmgw.core.resilience.BackendGuards(),
            dev.llmgw.core.exchange.ExchangeEvents.NOOP),
        new LocalEndpoints(1_700_000_000L, () -> false, new dev.llmgw.core.resilience.BackendGuards(), null), null, new java.util.concurrent.atomic.AtomicInteger(),
        new java.util.concurrent.atomic.AtomicInteger()));
  }

  @AfterEach
  void tearDown() {
    ch.finishAndReleaseAll();
  }

  @AfterAll
  static void closePools() {
    POOLS.close();
  }

  record Reply(int status, String head, JsonNode json) {
    String header(String name) {
      for (String line : head.split("\r\n")) {
        int i = line.indexOf(':');
        if (i > 0 && line.substring(0, i).equalsIgnoreCase(name)) {
          return line.substring(i + 1).trim();
        }
      }
      return null;
    }
  }

  private Reply send(String raw) {
    ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.UTF_8));
    StringBuilder out = new StringBuilder();
    ByteBuf b;
    while ((b = ch.readOutbound()) != null) {
      out.append(b.toString(StandardCharsets.UTF_8));
      b.release();
    }
    String text = out.toString();
    assertThat(text).as("a response").startsWith("HTTP/1.1 ");
    int split = text.indexOf("\r\n\r\n");
    String head = text.substring(0, split);
    String body = text.substring(split + 4);
    try {
      return new Reply(Integer.parseInt(head.substring(9, 12)), head,
          body.isEmpty() ? null : RequestParser.JSON.readTree(body));
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + body, e);
    }
  }

  private static String post(String path, String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    return "POST " + path + " HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: "
        + b.length + "\r\nx-request-id: test-rid-1\r\n\r\n" + body;
  }

  private static void assertError(Reply r, int status, String code, String param) {
    assertThat(r.status()).isEqualTo(status);
    assertThat(r.header("content-type")).isEqualTo("application/json");
    JsonNode e = r.json().get("error");
    assertThat(e).as("OpenAI error shape").isNotNull();
    assertThat(e.has("message") && e.has("type") && e.has("param") && e.has("code")).isTrue();
    assertThat(e.get("message").asText()).isNotBlank();
    assertThat(e.get("code").isNull() ? null : e.get("code").asText()).isEqualTo(code);
    assertThat(e.get("param").isNull() ? null : e.get("param").asText()).isEqualTo(param);
  }

  @Test
  void malformedJsonIs400WithNoParam() {
    Reply r = send(post("/v1/chat/completions", "{\"model\": \"gw-model\", \"messages\": ["));
    assertError(r, 400, null, null);
    assertThat(r.json().at("/error/type").asText()).isEqualTo("invalid_request_error");
    assertThat(r.header("x-request-id")).isEqualTo("test-rid-1");
    assertThat(ch.isActive()).as("keep-alive after a 400").isTrue();
  }

  @Test
  void missingMessagesIs400NamingTheParam() {
    assertError(send(post("/v1/chat/completions", "{\"model\":\"gw-model\"}")), 400,
        "missing_required_parameter", "messages");
  }

  @Test
  void wrongTypesAre400NamingTheParam() {
    assertError(send(post("/v1/chat/completions", "{\"model\":\"gw-model\",\"messages\":\"hi\"}")), 400,
        "invalid_type", "messages");
    assertError(send(post("/v1/chat/completions", "{\"model\":42,\"messages\":[]}")), 400, "invalid_type", "model");
    assertError(send(post("/v1/chat/completions",
        "{\"model\":\"gw-model\",\"stream\":\"yes\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")),
        400, "invalid_type", "stream");
    assertError(send(post("/v1/chat/completions", "{\"model\":\"gw-model\",\"messages\":[{\"content\":\"x\"}]}")),
        400, "missing_required_parameter", "messages[0].role");
    assertError(send(post("/v1/embeddings", "{\"model\":\"embed\"}")), 400, "missing_required_parameter", "input");
    assertError(send(post("/v1/completions", "{\"model\":\"gw-model\",\"prompt\":{}}")), 400, "invalid_type",
        "prompt");
    assertError(send(post("/v1/chat/completions", "[1,2]")), 400, null, null);
  }

  @Test
  void badCountsAre400NamingTheParamBeforeAnyBackend() {
    String chat = "{\"model\":\"gw-model\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],";
    assertError(send(post("/v1/chat/completions", chat + "\"max_tokens\":1e999}")), 400, "invalid_type", "max_tokens");
    assertError(send(post("/v1/chat/completions", chat + "\"max_tokens\":-5}")), 400, "integer_below_min_value",
        "max_tokens");
    assertError(send(post("/v1/chat/completions", chat + "\"max_tokens\":\"abc\"}")), 400, "invalid_type",
        "max_tokens");
    assertError(send(post("/v1/chat/completions", chat + "\"max_completion_tokens\":-5}")), 400,
        "integer_below_min_value", "max_completion_tokens");
    assertError(send(post("/v1/chat/completions", chat + "\"n\":129}")), 400, "integer_above_max_value", "n");
    assertError(send(post("/v1/chat/completions", chat + "\"n\":\"abc\"}")), 400, "invalid_type", "n");
    assertError(send(post("/v1/completions", "{\"model\":\"gw-model\",\"prompt\":\"p\",\"best_of\":1e999}")), 400,
        "invalid_type", "best_of");
    assertThat(ch.isActive()).as("keep-alive after a 400").isTrue();
  }

  @Test
  void unknownModelIs404ModelNotFound() {
    Reply r = send(post("/v1/chat/completions",
        "{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
    assertError(r, 404, "model_not_found", "model");
  }

  @Test
  void modelOfADisabledBackendIs404SayingWhy() {
    Reply r = send(post("/v1/chat/completions",
        "{\"model\":\"off-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
    assertError(r, 404, "model_not_found", "model");
    assertThat(r.json().at("/error/message").asText()).contains("disabled").contains("OFF_KEY is not set");
  }

  @Test
  void unknownPathIs404AndWrongMethodIs405() {
    assertError(send("GET /v1/nothing HTTP/1.1\r\nHost: gw\r\n\r\n"), 404, "unknown_url", null);
    Reply r = send("GET /v1/chat/completions HTTP/1.1\r\nHost: gw\r\n\r\n");
    assertError(r, 405, "method_not_allowed", null);
    assertError(send(post("/v1/models", "{}")), 405, "method_not_allowed", null);
  }

  @Test
  void oversizedBodyIs413AndCloses() {
    String big = "{\"model\":\"gw-model\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(2000) + "\"}]}";
    Reply r = send(post("/v1/chat/completions", big));
    assertError(r, 413, "request_too_large", null);
    assertThat(r.header("x-request-id")).isEqualTo("test-rid-1");
    assertThat(ch.isActive()).isFalse();
  }

  @Test
  void oversizedHeadersAre431() {
    Reply r = send("GET /healthz HTTP/1.1\r\nHost: gw\r\nX-Big: " + "a".repeat(5000) + "\r\n\r\n");
    assertError(r, 431, "headers_too_large", null);
    assertThat(r.header("x-request-id")).isNotBlank();
  }

  @Test
  void smugglingShapedRequestIsRejected() {
    Reply r = send("POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Length: 4\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assertThat(r.status()).isEqualTo(400);
    assertThat(ch.isActive()).isFalse();
  }

  @Test
  void modelsListsOnlyServableAliases() {
    Reply r = send("GET /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("object").asText()).isEqualTo("list");
    assertThat(r.json().get("data").findValuesAsText("id")).containsExactly("gw-model", "backend-model", "embed");
    assertThat(r.header("x-request-id")).startsWith("req_");
    Reply one = send("GET /v1/models/embed HTTP/1.1\r\nHost: gw\r\n\r\n");
    assertThat(one.json().get("id").asText()).isEqualTo("embed");
    assertError(send("GET /v1/models/off-model HTTP/1.1\r\nHost: gw\r\n\r\n"), 404, "model_not_found", "model");
  }

  @Test
  void healthAndReadiness() {
    assertThat(send("GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n").json().get("status").asText()).isEqualTo("ok");
    Reply ready = send("GET /readyz HTTP/1.1\r\nHost: gw\r\n\r\n");
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.json().get("backends").findValuesAsText("name")).containsExactly("mock", "off");
    assertThat(ready.json().toString()).doesNotContain(TestConfigs.PROVIDER_KEY);
  }

  @Test
  void connectionCloseIsHonoured() {
    Reply r = send("GET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n");
    assertThat(r.header("connection")).isEqualTo("close");
    assertThat(ch.isActive()).isFalse();
  }

  @Test
  void nothingBehindAClosingResponseIsServedWhileTheCloseIsStillInFlight() {
    // io_uring completes a close in a later turn of the loop: hold it back the same way
    ChannelPromise[] held = new ChannelPromise[1];
    ch.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
      @Override
      public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        held[0] = promise;
      }
    });
    Reply r = send("GET /healthz HTTP/1.0\r\n\r\n" + "GET /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("connection")).isEqualTo("close");
    assertThat(held[0]).as("the close was asked for").isNotNull();
    assertThat(ch.isActive()).as("and has not completed").isTrue();
    assertThat((Object) ch.readOutbound()).as("the request behind it is not answered").isNull();
    assertThat(ch.config().isAutoRead()).as("nor is anything more read").isFalse();

    ch.writeInbound(Unpooled.copiedBuffer("GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n", StandardCharsets.UTF_8));
    ch.runPendingTasks();
    assertThat((Object) ch.readOutbound()).as("nor one that still arrives").isNull();
  }
}
