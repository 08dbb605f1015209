package dev.llmgw.core.ingress;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;
import java.io.IOException;
import java.io.InputStream;

/**
 * Parses and validates an OpenAI request body. Validation covers what the gateway itself relies on
 * (model, the input field, {@code stream}, the counts a budget reservation is built from:
 * {@code max_tokens}, {@code max_completion_tokens}, {@code n}, {@code best_of}, each an integer from 1
 * to its bound as the OpenAI API requires) and the shapes a backend would otherwise reject with a
 * less helpful message; everything else is the backend's to judge. Errors name the parameter at
 * fault ({@code param}), as the OpenAI API does.
 *
 * <p>One streaming pass over the body ({@link BodyScan}: Jackson's {@link JsonParser}, no tree): it
 * reads the few fields the gateway needs on every request ({@code model} and where its value lies,
 * {@code stream}, {@code stream_options}, the output-token cap, {@code metadata.workflow_*}), checks
 * the shapes below, skips everything else without building it, and reads to the end, so malformed
 * JSON anywhere is refused before any field is judged; this class then judges what it found. Duplicate keys: the last one counts, as in a tree. The
 * tree is built later, only if asked for ({@link ParsedRequest#json()}). The profile had the tree
 * build at 9–12 % of the gateway's CPU and a quarter of the bytes it allocates per request.
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

  /** Largest {@code max_tokens} / {@code max_completion_tokens} accepted (a 32-bit integer, as OpenAI's). */
  public static final long MAX_OUTPUT_TOKENS = Integer.MAX_VALUE;
  /** Largest {@code n} accepted (OpenAI's bound). */
  public static final long MAX_N = 128;
  /** Largest {@code best_of} accepted on {@code /v1/completions} (OpenAI's bound). */
  public static final long MAX_BEST_OF = 20;

  private RequestParser() {}

  /**
   * Parses a body.
   *
   * @throws GatewayException with a 400 error naming the problem
   */
  public static ParsedRequest parse(Endpoint endpoint, InputStream body) {
    byte[] bytes;
    try {
      bytes = readFully(body);
    } catch (IOException e) {
      throw new GatewayException(GatewayError.malformedJson(String.valueOf(e.getMessage())));
    }
    BodyScan s = new BodyScan(endpoint);
    try (JsonParser p = JSON.getFactory().createParser(bytes)) {
      s.read(p);
    } catch (JsonProcessingException e) {
      throw new GatewayException(GatewayError.malformedJson(e.getOriginalMessage()));
    } catch (IOException e) {
      throw new GatewayException(GatewayError.malformedJson(String.valueOf(e.getMessage())));
    }
    return validate(s, bytes);
  }

  /**
   * The stream's bytes in one array of exactly their size when the stream knows its size up front (a
   * buffer's stream does: {@code available()}); {@code readAllBytes()} would fill 8 KiB chunks and copy.
   */
  private static byte[] readFully(InputStream in) throws IOException {
    int n = in.available();
    if (n <= 0) {
      return in.readAllBytes();
    }
    byte[] bytes = new byte[n];
    int read = in.readNBytes(bytes, 0, n);
    if (read < n) {
      return java.util.Arrays.copyOf(bytes, read);
    }
    int next = in.read();
    if (next < 0) {
      return bytes;
    }
    // the stream had more than it said: append the rest
    byte[] rest = in.readAllBytes();
    byte[] all = java.util.Arrays.copyOf(bytes, n + 1 + rest.length);
    all[n] = (byte) next;
    System.arraycopy(rest, 0, all, n + 1, rest.length);
    return all;
  }

  /** Judges what the scan found, in a fixed order: the first problem is the one answered. */
  private static ParsedRequest validate(BodyScan s, byte[] bytes) {
    if (s.root == null) {
      throw new GatewayException(GatewayError.malformedJson("the body is empty"));
    }
    if (s.root != JsonToken.START_OBJECT) {
      throw new GatewayException(GatewayError.malformedJson("expected a JSON object, got " + describe(s.root)));
    }
    if (s.model == null || s.model == JsonToken.VALUE_NULL) {
      throw new GatewayException(GatewayError.missingParam("model"));
    }
    if (s.model != JsonToken.VALUE_STRING) {
      throw new GatewayException(GatewayError.invalidType("model", "a string", describe(s.model)));
    }
    if (s.modelText.isBlank()) {
      throw new GatewayException(GatewayError.invalidValue("model", "'model' must not be empty."));
    }
    boolean isStream = false;
    if (s.stream != null && s.stream != JsonToken.VALUE_NULL) {
      if (s.stream != JsonToken.VALUE_TRUE && s.stream != JsonToken.VALUE_FALSE) {
        throw new GatewayException(GatewayError.invalidType("stream", "a boolean", describe(s.stream)));
      }
      isStream = s.stream == JsonToken.VALUE_TRUE;
    }
    if (isStream && !s.endpoint.streamable()) {
      throw new GatewayException(GatewayError.invalidValue("stream", "This endpoint does not support streaming."));
    }
    JsonToken options = s.streamOptions;
    if (options != null && options != JsonToken.VALUE_NULL && options != JsonToken.START_OBJECT) {
      throw new GatewayException(GatewayError.invalidType("stream_options", "an object", describe(options)));
    }
    String field = s.inputField();
    if (s.input == null || s.input == JsonToken.VALUE_NULL) {
      throw new GatewayException(GatewayError.missingParam(field));
    }
    if (s.endpoint == Endpoint.CHAT_COMPLETIONS) {
      if (s.input != JsonToken.START_ARRAY) {
        throw new GatewayException(GatewayError.invalidType("messages", "an array of objects", describe(s.input)));
      }
      if (s.messageCount == 0) {
        throw new GatewayException(GatewayError.invalidValue("messages",
            "Invalid 'messages': empty array. Expected an array with minimum length 1."));
      }
      if (s.messageError != null) {
        throw new GatewayException(s.messageError);
      }
    } else if (s.input != JsonToken.VALUE_STRING && s.input != JsonToken.START_ARRAY) {
      throw new GatewayException(GatewayError.invalidType(field, "a string or an array", describe(s.input)));
    }
    refuseIf(s.maxCompletionTokensError);
    refuseIf(s.maxTokensError);
    refuseIf(s.nError);
    refuseIf(s.bestOfError);
    // one model field: its bytes can be replaced; several (the last counts): re-serialise instead
    ModelLocation at = s.modelFields == 1 && s.objectStart >= 0 && s.modelStart > s.objectStart
        && s.modelEnd > s.modelStart && s.modelEnd <= bytes.length && bytes[s.modelStart] == '"'
        && bytes[s.modelEnd - 1] == '"' ? new ModelLocation(s.objectStart, s.modelStart, s.modelEnd)
        : ModelLocation.UNKNOWN;
    long maxOutput = s.maxCompletionTokens > 0 ? s.maxCompletionTokens : s.maxTokens;
    long choices = Math.max(1, Math.max(s.n, s.bestOf)); // best_of candidates are generated and billed too
    return new ParsedRequest(s.endpoint, s.modelText, isStream, options != null,
        options == JsonToken.START_OBJECT && s.includeUsage, maxOutput, choices, s.workflowId, s.workflowType, at,
        bytes).withCacheDirective(s.cacheDirective);
  }

  private static void refuseIf(GatewayError error) {
    if (error != null) {
      throw new GatewayException(error);
    }
  }

  /** "a string", "an object", ... as the OpenAI API words it, for a value's first token. */
  static String describe(JsonToken t) {
    return switch (t) {
      case START_ARRAY -> "an array";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NUMBER_INT -> "an integer";
      case VALUE_NUMBER_FLOAT -> "a decimal";
      case START_OBJECT, VALUE_EMBEDDED_OBJECT -> "an object";
      case VALUE_STRING -> "a string";
      default -> "null";
    };
  }
}
