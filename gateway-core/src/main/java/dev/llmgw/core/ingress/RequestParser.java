package dev.llmgw.core.ingress;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;
import java.io.IOException;
import java.io.InputStream;

/**
 * Parses and validates an OpenAI request body. Validation covers what the gateway itself relies on
 * (model, the input field, {@code stream}) and the shapes a backend would otherwise reject with a
 * less helpful message; everything else is the backend's to judge. Errors name the parameter at
 * fault ({@code param}), as the OpenAI API does.
 *
 * <p>Thread-safe; no Netty types (callers hand it an {@link InputStream} over the body).
 */
public final class RequestParser {

  /** Shared, thread-safe mapper for request and response JSON. */
  public static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  static {
    JSON.getFactory().setStreamReadConstraints(
        StreamReadConstraints.builder().maxNestingDepth(200).build());
  }

  private RequestParser() {}

  /**
   * Parses a body.
   *
   * @throws GatewayException with a 400 error naming the problem
   */
  public static ParsedRequest parse(Endpoint endpoint, InputStream body) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (JsonParseException e) {
      throw new GatewayException(GatewayError.malformedJson(e.getOriginalMessage()));
    } catch (JsonProcessingException e) {
      throw new GatewayException(GatewayError.malformedJson(e.getOriginalMessage()));
    } catch (IOException e) {
      throw new GatewayException(GatewayError.malformedJson(String.valueOf(e.getMessage())));
    }
    if (root == null || root.isMissingNode()) {
      throw new GatewayException(GatewayError.malformedJson("the body is empty"));
    }
    if (!root.isObject()) {
      throw new GatewayException(GatewayError.malformedJson("expected a JSON object, got " + describe(root)));
    }
    ObjectNode json = (ObjectNode) root;
    String model = requireString(json, "model");
    if (model.isBlank()) {
      throw new GatewayException(GatewayError.invalidValue("model", "'model' must not be empty."));
    }
    boolean stream = optionalBoolean(json, "stream");
    if (stream && !endpoint.streamable()) {
      throw new GatewayException(GatewayError.invalidValue("stream", "This endpoint does not support streaming."));
    }
    JsonNode streamOptions = json.get("stream_options");
    if (streamOptions != null && !streamOptions.isNull() && !streamOptions.isObject()) {
      throw new GatewayException(GatewayError.invalidType("stream_options", "an object", describe(streamOptions)));
    }
    switch (endpoint) {
      case CHAT_COMPLETIONS -> validateMessages(json);
      case COMPLETIONS -> requireStringOrArray(json, "prompt");
      case EMBEDDINGS -> requireStringOrArray(json, "input");
    }
    return new ParsedRequest(endpoint, model, stream, json);
  }

  private static void validateMessages(ObjectNode json) {
    JsonNode messages = json.get("messages");
    if (messages == null || messages.isNull()) {
      throw new GatewayException(GatewayError.missingParam("messages"));
    }
    if (!messages.isArray()) {
      throw new GatewayException(GatewayError.invalidType("messages", "an array of objects", describe(messages)));
    }
    if (messages.isEmpty()) {
      throw new GatewayException(GatewayError.invalidValue("messages",
          "Invalid 'messages': empty array. Expected an array with minimum length 1."));
    }
    for (int i = 0; i < messages.size(); i++) {
      JsonNode m = messages.get(i);
      String at = "messages[" + i + "]";
      if (!m.isObject()) {
        throw new GatewayException(GatewayError.invalidType(at, "an object", describe(m)));
      }
      JsonNode role = m.get("role");
      if (role == null || role.isNull()) {
        throw new GatewayException(GatewayError.missingParam(at + ".role"));
      }
      if (!role.isTextual()) {
        throw new GatewayException(GatewayError.invalidType(at + ".role", "a string", describe(role)));
      }
    }
  }

  private static String requireString(ObjectNode json, String field) {
    JsonNode v = json.get(field);
    if (v == null || v.isNull()) {
      throw new GatewayException(GatewayError.missingParam(field));
    }
    if (!v.isTextual()) {
      throw new GatewayException(GatewayError.invalidType(field, "a string", describe(v)));
    }
    return v.textValue();
  }

  private static void requireStringOrArray(ObjectNode json, String field) {
    JsonNode v = json.get(field);
    if (v == null || v.isNull()) {
      throw new GatewayException(GatewayError.missingParam(field));
    }
    if (!v.isTextual() && !v.isArray()) {
      throw new GatewayException(GatewayError.invalidType(field, "a string or an array", describe(v)));
    }
  }

  private static boolean optionalBoolean(ObjectNode json, String field) {
    JsonNode v = json.get(field);
    if (v == null || v.isNull()) {
      return false;
    }
    if (!v.isBoolean()) {
      throw new GatewayException(GatewayError.invalidType(field, "a boolean", describe(v)));
    }
    return v.booleanValue();
  }

  /** "a string", "an object", ... as the OpenAI API words it. */
  static String describe(JsonNode n) {
    JsonNodeType t = n.getNodeType();
    return switch (t) {
      case ARRAY -> "an array";
      case BOOLEAN -> "a boolean";
      case NUMBER -> n.isIntegralNumber() ? "an integer" : "a decimal";
      case OBJECT, POJO -> "an object";
      case STRING, BINARY -> "a string";
      case NULL, MISSING -> "null";
    };
  }
}
