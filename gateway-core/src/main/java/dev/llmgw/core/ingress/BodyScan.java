package dev.llmgw.core.ingress;

import static dev.llmgw.core.ingress.RequestParser.MAX_BEST_OF;
import static dev.llmgw.core.ingress.RequestParser.MAX_N;
import static dev.llmgw.core.ingress.RequestParser.MAX_OUTPUT_TOKENS;
import static dev.llmgw.core.ingress.RequestParser.describe;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;
import java.io.IOException;

/**
 * One streaming pass over a request body (Jackson's {@link JsonParser}, no tree): what the body holds
 * of the few fields the gateway needs — the token each starts with, where the {@code model} string
 * lies, the counts and their errors (of their last occurrence, as in a tree), the first bad element of
 * {@code messages} — everything else skipped without being built. It refuses only malformed JSON and
 * trailing tokens; the rest is judged afterwards, in a fixed order, by {@link RequestParser}, which
 * reads the fields below. One instance per body, on one thread.
 */
final class BodyScan {
  final Endpoint endpoint;
  JsonToken root;

  JsonToken model; // the token of the last "model" value (null: absent)
  String modelText;
  int modelFields;
  int objectStart = -1;
  int modelStart = -1;
  int modelEnd = -1;

  JsonToken stream;
  JsonToken streamOptions;
  boolean includeUsage;
  long maxCompletionTokens = -1;
  long maxTokens = -1;
  long n = -1;
  long bestOf = -1;
  // the count fields' errors (of their last occurrence), judged by RequestParser
  GatewayError maxCompletionTokensError;
  GatewayError maxTokensError;
  GatewayError nError;
  GatewayError bestOfError;
  private long count; // the value the last count() read, or -1
  String workflowId;
  String workflowType;
  String cacheDirective; // metadata.gateway_cache when a string

  // the endpoint's input field: messages / prompt / input
  JsonToken input;
  int messageCount;
  GatewayError messageError; // the first bad element of the last "messages" array

  BodyScan(Endpoint endpoint) {
    this.endpoint = endpoint;
  }

  /** Reads the whole body: one JSON value, nothing after it. */
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
        cacheDirective = null;
        if (v == JsonToken.START_OBJECT) {
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken m = p.nextToken();
            if ("workflow_id".equals(key)) {
              workflowId = m == JsonToken.VALUE_STRING ? p.getText() : null;
            } else if ("workflow_type".equals(key)) {
              workflowType = m == JsonToken.VALUE_STRING ? p.getText() : null;
            } else if ("gateway_cache".equals(key)) {
              cacheDirective = m == JsonToken.VALUE_STRING ? p.getText() : null;
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

  /** The endpoint's input field: {@code messages}, {@code prompt} or {@code input}. */
  String inputField() {
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
}
