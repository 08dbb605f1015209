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
 * <p>One streaming pass over the body (Jackson's {@link JsonParser}, no tree): it reads the few
 * fields the gateway needs on every request ({@code model} and where its value lies, {@code stream},
 * {@code stream_options}, the output-token cap, {@code metadata.workflow_*}), checks the shapes
 * below, skips everything else without building it, and reads to the end, so malformed JSON anywhere
 * is refused before any field is judged. Duplicate keys: the last one counts, as in a tree. The
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
    Scan s = new Scan(endpoint);
    try (JsonParser p = JSON.getFactory().createParser(bytes)) {
      s.read(p);
    } catch (JsonProcessingException e) {
      throw new GatewayException(GatewayError.malformedJson(e.getOriginalMessage()));
    } catch (IOException e) {
      throw new GatewayException(GatewayError.malformedJson(String.valueOf(e.getMessage())));
    }
    return s.validate(bytes);
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

  /** What one pass over the body found; judged afterwards, in a fixed order, by {@link #validate}. */
  private static final class Scan {
    private final Endpoint endpoint;
    private JsonToken root;

    private JsonToken model; // the token of the last "model" value (null: absent)
    private String modelText;
    private int modelFields;
    private int objectStart = -1;
    private int modelStart = -1;
    private int modelEnd = -1;

    private JsonToken stream;
    private JsonToken streamOptions;
    private boolean includeUsage;
    private long maxCompletionTokens = -1;
    private long maxTokens = -1;
    private long n = -1;
    private long bestOf = -1;
    // the count fields' errors (of their last occurrence), judged in validate()
    private GatewayError maxCompletionTokensError;
    private GatewayError maxTokensError;
    private GatewayError nError;
    private GatewayError bestOfError;
    private long count; // the value the last count() read, or -1
    private String workflowId;
    private String workflowType;

    // the endpoint's input field: messages / prompt / input
    private JsonToken input;
    private int messageCount;
    private GatewayError messageError; // the first bad element of the last "messages" array

    Scan(Endpoint endpoint) {
      this.endpoint = endpoint;
    }

    void read(JsonParser p) throws IOException {
      root = p.nextToken();
      if (root == null) {
        return;
      }
      if (root != JsonToken.START_OBJECT) {
        p.skipChildren();
      } else {
        objectStart = (int) p.currentTokenLocation().getByteOffset();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          JsonToken v = p.nextToken();
          field(name, v, p);
        }
      }
      JsonToken trailing = p.nextToken();
      if (trailing != null) {
        throw new GatewayException(GatewayError.malformedJson("Trailing token (of type " + trailing
            + ") found after value: the body must be exactly one JSON value"));
      }
    }

    private void field(String name, JsonToken v, JsonParser p) throws IOException {
      switch (name) {
        case "model" -> {
          modelFields++;
          model = v;
          modelText = null;
          if (v == JsonToken.VALUE_STRING) {
            modelStart = (int) p.currentTokenLocation().getByteOffset();
            modelText = p.getText(); // finishes the token: the location is now past the closing quote
            modelEnd = (int) p.currentLocation().getByteOffset();
          } else {
            p.skipChildren();
          }
        }
        case "stream" -> {
          stream = v;
          p.skipChildren();
        }
        case "stream_options" -> {
          streamOptions = v;
          includeUsage = false;
          if (v == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              boolean isIncludeUsage = "include_usage".equals(p.currentName());
              JsonToken u = p.nextToken();
              if (isIncludeUsage) {
                includeUsage = u == JsonToken.VALUE_TRUE;
              }
              p.skipChildren();
            }
          } else {
            p.skipChildren();
          }
        }
        case "max_completion_tokens" -> {
          maxCompletionTokensError = count(name, MAX_OUTPUT_TOKENS, v, p);
          maxCompletionTokens = count;
        }
        case "max_tokens" -> {
          maxTokensError = count(name, MAX_OUTPUT_TOKENS, v, p);
          maxTokens = count;
        }
        case "n" -> {
          nError = count(name, MAX_N, v, p);
          n = count;
        }
        case "best_of" -> {
          if (endpoint == Endpoint.COMPLETIONS) {
            bestOfError = count(name, MAX_BEST_OF, v, p);
            bestOf = count;
          } else {
            p.skipChildren();
          }
        }
        case "metadata" -> {
          workflowId = null;
          workflowType = null;
          if (v == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String key = p.currentName();
              JsonToken m = p.nextToken();
              if ("workflow_id".equals(key)) {
                workflowId = m == JsonToken.VALUE_STRING ? p.getText() : null;
              } else if ("workflow_type".equals(key)) {
                workflowType = m == JsonToken.VALUE_STRING ? p.getText() : null;
              }
              p.skipChildren();
            }
          } else {
            p.skipChildren();
          }
        }
        default -> {
          if (name.equals(inputField())) {
            input = v;
            if (endpoint == Endpoint.CHAT_COMPLETIONS) {
              messages(v, p);
            } else {
              p.skipChildren();
            }
          } else {
            p.skipChildren();
          }
        }
      }
    }

    private String inputField() {
      return switch (endpoint) {
        case CHAT_COMPLETIONS -> "messages";
        case COMPLETIONS -> "prompt";
        case EMBEDDINGS -> "input";
      };
    }

    /** Checks each element of a {@code messages} array: an object with a string {@code role}. */
    private void messages(JsonToken v, JsonParser p) throws IOException {
      messageCount = 0;
      messageError = null;
      if (v != JsonToken.START_ARRAY) {
        p.skipChildren();
        return;
      }
      JsonToken e;
      while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
        int i = messageCount++;
        if (e != JsonToken.START_OBJECT) {
          if (messageError == null) {
            messageError = GatewayError.invalidType("messages[" + i + "]", "an object", describe(e));
          }
          p.skipChildren();
          continue;
        }
        JsonToken role = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          boolean isRole = "role".equals(p.currentName());
          JsonToken r = p.nextToken();
          if (isRole) {
            role = r;
          }
          p.skipChildren();
        }
        if (messageError == null) {
          if (role == null || role == JsonToken.VALUE_NULL) {
            messageError = GatewayError.missingParam("messages[" + i + "].role");
          } else if (role != JsonToken.VALUE_STRING) {
            messageError = GatewayError.invalidType("messages[" + i + "].role", "a string", describe(role));
          }
        }
      }
    }

    /**
     * Reads a count ({@code max_tokens}, {@code n}, ...) as the OpenAI API judges it: null is absent;
     * else an integer from 1 to {@code max} (a decimal such as {@code 2.0} or {@code 1e999}, a string, ...
     * is the wrong type). Sets {@link #count} to the value (-1 when absent or refused). Allocates only
     * when the value is refused.
     *
     * @return the error to answer if this occurrence is the last, or null
     */
    private GatewayError count(String param, long max, JsonToken v, JsonParser p) throws IOException {
      count = -1;
      if (v == JsonToken.VALUE_NULL) {
        return null;
      }
      if (v != JsonToken.VALUE_NUMBER_INT) {
        p.skipChildren();
        return GatewayError.invalidType(param, "an integer", describe(v));
      }
      if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
        java.math.BigInteger big = p.getBigIntegerValue();
        return big.signum() < 0 ? GatewayError.belowMinimum(param, true, "1", big.toString())
            : GatewayError.aboveMaximum(param, true, Long.toString(max), big.toString());
      }
      long x = p.getLongValue();
      if (x < 1) {
        return GatewayError.belowMinimum(param, true, "1", Long.toString(x));
      }
      if (x > max) {
        return GatewayError.aboveMaximum(param, true, Long.toString(max), Long.toString(x));
      }
      count = x;
      return null;
    }

    ParsedRequest validate(byte[] bytes) {
      if (root == null) {
        throw new GatewayException(GatewayError.malformedJson("the body is empty"));
      }
      if (root != JsonToken.START_OBJECT) {
        throw new GatewayException(GatewayError.malformedJson("expected a JSON object, got " + describe(root)));
      }
      if (model == null || model == JsonToken.VALUE_NULL) {
        throw new GatewayException(GatewayError.missingParam("model"));
      }
      if (model != JsonToken.VALUE_STRING) {
        throw new GatewayException(GatewayError.invalidType("model", "a string", describe(model)));
      }
      if (modelText.isBlank()) {
        throw new GatewayException(GatewayError.invalidValue("model", "'model' must not be empty."));
      }
      boolean isStream = false;
      if (stream != null && stream != JsonToken.VALUE_NULL) {
        if (stream != JsonToken.VALUE_TRUE && stream != JsonToken.VALUE_FALSE) {
          throw new GatewayException(GatewayError.invalidType("stream", "a boolean", describe(stream)));
        }
        isStream = stream == JsonToken.VALUE_TRUE;
      }
      if (isStream && !endpoint.streamable()) {
        throw new GatewayException(GatewayError.invalidValue("stream", "This endpoint does not support streaming."));
      }
      if (streamOptions != null && streamOptions != JsonToken.VALUE_NULL && streamOptions != JsonToken.START_OBJECT) {
        throw new GatewayException(GatewayError.invalidType("stream_options", "an object", describe(streamOptions)));
      }
      String field = inputField();
      if (input == null || input == JsonToken.VALUE_NULL) {
        throw new GatewayException(GatewayError.missingParam(field));
      }
      if (endpoint == Endpoint.CHAT_COMPLETIONS) {
        if (input != JsonToken.START_ARRAY) {
          throw new GatewayException(GatewayError.invalidType("messages", "an array of objects", describe(input)));
        }
        if (messageCount == 0) {
          throw new GatewayException(GatewayError.invalidValue("messages",
              "Invalid 'messages': empty array. Expected an array with minimum length 1."));
        }
        if (messageError != null) {
          throw new GatewayException(messageError);
        }
      } else if (input != JsonToken.VALUE_STRING && input != JsonToken.START_ARRAY) {
        throw new GatewayException(GatewayError.invalidType(field, "a string or an array", describe(input)));
      }
      refuseIf(maxCompletionTokensError);
      refuseIf(maxTokensError);
      refuseIf(nError);
      refuseIf(bestOfError);
      // one model field: its bytes can be replaced; several (the last counts): re-serialise instead
      ModelLocation at = modelFields == 1 && objectStart >= 0 && modelStart > objectStart && modelEnd > modelStart
          && modelEnd <= bytes.length && bytes[modelStart] == '"' && bytes[modelEnd - 1] == '"'
          ? new ModelLocation(objectStart, modelStart, modelEnd) : ModelLocation.UNKNOWN;
      long maxOutput = maxCompletionTokens > 0 ? maxCompletionTokens : maxTokens;
      long choices = Math.max(1, Math.max(n, bestOf)); // best_of candidates are generated and billed too
      return new ParsedRequest(endpoint, modelText, isStream, streamOptions != null,
          streamOptions == JsonToken.START_OBJECT && includeUsage, maxOutput, choices, workflowId, workflowType, at,
          bytes);
    }
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
