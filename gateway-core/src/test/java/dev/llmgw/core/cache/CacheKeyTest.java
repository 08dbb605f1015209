package dev.llmgw.core.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.error.GatewayException;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.ingress.RequestParser;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The canonical key: what changes the answer changes the key, what does not leaves it alone. */
class CacheKeyTest {
  private static final String BASE = "{\"model\":\"auto\",\"temperature\":0,"
      + "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]";

  static ParsedRequest parse(String json) {
    return parse(Endpoint.CHAT_COMPLETIONS, json);
  }

  static ParsedRequest parse(Endpoint endpoint, String json) {
    return RequestParser.parse(endpoint, new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
  }

  private static String key(String json) {
    return key(json, null, "fast");
  }

  private static String key(String json, String scope, String alias) {
    return CacheKey.of(parse(json), scope, alias, "local", "local-model");
  }

  @Test
  void sameRequestSameKeyWhateverTheOrderAndNotation() {
    String a = key(BASE + "}");
    assertThat(a).hasSize(64).matches("[0-9a-f]{64}");
    assertThat(key("{\"messages\":[{\"content\":\"Hello\",\"role\":\"user\"}],\"temperature\":0.0,\"model\":\"x\"}"))
        .isEqualTo(a);
    assertThat(key(BASE.replace("\"temperature\":0", "\"temperature\":0e0") + "}")).isEqualTo(a);
    // what does not change the answer: metadata, user, store, the model as the client named it
    assertThat(key(BASE + ",\"metadata\":{\"workflow_id\":\"w-1\",\"gateway_cache\":\"use\"},\"user\":\"u-7\","
        + "\"store\":false}")).isEqualTo(a);
  }

  @Test
  void whatChangesTheAnswerChangesTheKey() {
    String a = key(BASE + "}");
    assertThat(key(BASE.replace("\"temperature\":0", "\"temperature\":0.2") + "}")).isNotEqualTo(a);
    assertThat(key(BASE.replace("Hello", "Hello!") + "}")).isNotEqualTo(a);
    String tools = ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{}}}]";
    assertThat(key(BASE + tools + "}")).isNotEqualTo(a);
    assertThat(key(BASE + tools.replace("\"f\"", "\"g\"") + "}")).isNotEqualTo(key(BASE + tools + "}"));
    assertThat(key(BASE + ",\"max_tokens\":10}")).isNotEqualTo(a);
    assertThat(key(BASE + ",\"seed\":1}")).isNotEqualTo(key(BASE + ",\"seed\":2}"));
    assertThat(key(BASE + ",\"response_format\":{\"type\":\"json_object\"}}")).isNotEqualTo(a);
    // the response's shape: streamed or not, with or without the usage chunk
    assertThat(key(BASE + ",\"stream\":true}")).isNotEqualTo(a);
    assertThat(key(BASE + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}"))
        .isNotEqualTo(key(BASE + ",\"stream\":true}"));
  }

  @Test
  void theRoutedModelAndTheScopeAreInTheKey() {
    String body = BASE + "}";
    assertThat(key(body, null, "fast")).isNotEqualTo(key(body, null, "strong"));
    assertThat(CacheKey.of(parse(body), null, "fast", "local", "other-model")).isNotEqualTo(key(body));
    assertThat(key(body, "team:a", "fast")).isNotEqualTo(key(body, "team:b", "fast"))
        .isNotEqualTo(key(body, null, "fast"));
  }

  @Test
  void anOutputBoundTheGatewayAddsIsInTheKey() {
    ParsedRequest bounded = parse(BASE + "}");
    bounded.boundOutput(4096);
    assertThat(CacheKey.of(bounded, null, "fast", "local", "local-model")).isNotEqualTo(key(BASE + "}"));
  }

  @Test
  void deterministicMeansTemperatureZeroOrASeed() {
    assertThat(CacheKey.deterministic(parse(BASE + "}"))).isTrue();
    assertThat(CacheKey.deterministic(parse(BASE.replace("\"temperature\":0", "\"temperature\":0.7") + "}")))
        .isFalse();
    assertThat(CacheKey.deterministic(parse(BASE.replace("\"temperature\":0", "\"temperature\":0.7")
        + ",\"seed\":42}"))).isTrue();
    assertThat(CacheKey.deterministic(parse("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")))
        .as("no temperature: the API samples at 1").isFalse();
    assertThat(CacheKey.deterministic(parse(Endpoint.EMBEDDINGS, "{\"model\":\"e\",\"input\":\"x\"}"))).isTrue();
  }

  @Test
  void directives() {
    assertThat(CacheDirective.of(null, null)).isEqualTo(CacheDirective.USE);
    assertThat(CacheDirective.of(" Refresh ", null)).isEqualTo(CacheDirective.REFRESH);
    assertThat(CacheDirective.of(null, "bypass")).isEqualTo(CacheDirective.BYPASS);
    assertThat(CacheDirective.of("use", "bypass")).as("the header wins").isEqualTo(CacheDirective.USE);
    assertThatThrownBy(() -> CacheDirective.of("sometimes", null)).isInstanceOfSatisfying(GatewayException.class,
        e -> {
          assertThat(e.error().status()).isEqualTo(400);
          assertThat(e.error().param()).isEqualTo("x-gateway-cache");
        });
    assertThatThrownBy(() -> CacheDirective.of(null, "never")).isInstanceOfSatisfying(GatewayException.class,
        e -> assertThat(e.error().param()).isEqualTo("metadata.gateway_cache"));
  }
}
