package dev.llmgw.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.ingress.RequestParser;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Assertions on the OpenAI error shape {@code {"error":{"message","type","param","code"}}}. */
final class OpenAiErrors {
  private OpenAiErrors() {}

  /** Asserts the shape and returns the {@code error} object. */
  static JsonNode assertShape(String body, String as) {
    JsonNode root;
    try {
      root = RequestParser.JSON.readTree(body);
    } catch (IOException e) {
      throw new UncheckedIOException(as + ": error body is not JSON: " + body, e);
    }
    assertThat(root).as(as + ": error body " + body).isNotNull();
    assertThat(root.isObject()).as(as + ": error body is an object: " + body).isTrue();
    assertThat(root.size()).as(as + ": only 'error' at the top: " + body).isEqualTo(1);
    JsonNode e = root.get("error");
    assertThat(e).as(as + ": has 'error': " + body).isNotNull();
    assertThat(e.isObject()).as(as + ": 'error' is an object").isTrue();
    assertThat(e.path("message").isTextual()).as(as + ": error.message is a string").isTrue();
    assertThat(e.path("message").asText()).as(as + ": error.message").isNotBlank();
    assertThat(e.path("type").isTextual()).as(as + ": error.type is a string").isTrue();
    assertThat(e.has("param")).as(as + ": error.param present").isTrue();
    assertThat(e.get("param").isNull() || e.get("param").isTextual()).as(as + ": error.param null or string").isTrue();
    assertThat(e.has("code")).as(as + ": error.code present").isTrue();
    assertThat(e.get("code").isNull() || e.get("code").isTextual()).as(as + ": error.code null or string").isTrue();
    return e;
  }
}
