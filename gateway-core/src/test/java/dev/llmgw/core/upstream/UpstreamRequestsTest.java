package dev.llmgw.core.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.route.Route;
import dev.llmgw.testkit.TestConfigs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.handler.codec.http.FullHttpRequest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The upstream body: the client's JSON with the backend's model name — spliced from the client's bytes
 * where the model value was located, re-serialised otherwise — must be the same JSON either way, and
 * leave the client's body untouched for the next attempt.
 */
class UpstreamRequestsTest {
  static final GatewayConfig CONFIG = TestConfigs.oneBackend("http://127.0.0.1:9/v1");
  static final Route ROUTE = new Route(CONFIG.models().get("gw-model"), CONFIG.backends().get("mock"));

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"model\":\"gw-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi \\\"model\\\": x\"}]}",
      "  {\"messages\":[{\"role\":\"user\",\"content\":\"é ü 漢字\"}], \"model\" : \"gw-model\" , \"n\":1}",
      "{\"metadata\":{\"model\":\"nested\"},\"model\":\"gw-\\u006dodel\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
      "{\"model\":\"gw-model\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
      "{\"model\":\"gw-model\",\"stream\":true,\"stream_options\":{\"include_usage\":false},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
  })
  void splicedAndReserialisedBodiesAreTheSameJson(String json) throws Exception {
    ByteBuf body = PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(json.getBytes(StandardCharsets.UTF_8));
    body.readerIndex(0);
    try {
      ParsedRequest parsed = RequestParser.parse(Endpoint.CHAT_COMPLETIONS, new ByteBufInputStream(body.duplicate()));
      assertThat(parsed.modelLocation().known()).isTrue();
      JsonNode spliced = send(parsed, body, true);
      JsonNode rewritten = send(parsed, body, false);
      assertThat(spliced).isEqualTo(rewritten);
      assertThat(spliced.get("model").asText()).isEqualTo("backend-model");
      if (parsed.stream()) {
        assertThat(spliced.at("/stream_options/include_usage").asBoolean()).isTrue();
      }
      assertThat(body.toString(StandardCharsets.UTF_8)).isEqualTo(json); // untouched for the next attempt
    } finally {
      body.release();
    }
  }

  @Test
  void aBodyWithTwoModelFieldsIsReserialisedWithOne() throws Exception {
    // the last "model" is the one routed on (and the one a backend would read): splicing the first
    // would let a client route on one model and have the backend run another
    String json = "{\"model\":\"other-model\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"model\":\"gw-model\"}";
    ByteBuf body = PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(json.getBytes(StandardCharsets.UTF_8));
    try {
      ParsedRequest parsed = RequestParser.parse(Endpoint.CHAT_COMPLETIONS, new ByteBufInputStream(body.duplicate()));
      assertThat(parsed.model()).isEqualTo("gw-model");
      assertThat(parsed.modelLocation().known()).isFalse();
      FullHttpRequest r = UpstreamRequests.build(ROUTE, parsed, body, "rid", PooledByteBufAllocator.DEFAULT);
      try {
        String sent = r.content().toString(StandardCharsets.UTF_8);
        assertThat(sent).containsOnlyOnce("\"model\"").contains("\"model\":\"backend-model\"");
      } finally {
        r.release();
      }
    } finally {
      body.release();
    }
  }

  private static JsonNode send(ParsedRequest request, ByteBuf body, boolean splice) throws Exception {
    FullHttpRequest r = UpstreamRequests.build(ROUTE, request, body, "rid", PooledByteBufAllocator.DEFAULT, splice);
    try {
      assertThat(r.headers().getInt("content-length")).isEqualTo(r.content().readableBytes());
      return RequestParser.JSON.readTree(r.content().toString(StandardCharsets.UTF_8));
    } finally {
      r.release();
    }
  }

  /** A location that does not fit the body fails loudly and leaves no half-built buffer behind. */
  @Test
  void aLocationOutsideTheBodyFailsWithoutALeak() {
    ByteBuf body = PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes("{\"model\":\"x\"}".getBytes(StandardCharsets.UTF_8));
    try {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> UpstreamRequests.splice(body,
              new dev.llmgw.core.ingress.ModelLocation(50, 60, 61), "backend-model", true, PooledByteBufAllocator.DEFAULT))
          .isInstanceOf(RuntimeException.class);
      assertThat(body.refCnt()).isEqualTo(1);
    } finally {
      body.release();
    }
  }
}
