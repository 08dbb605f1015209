package dev.llmgw.core.ingress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The one-pass parser against a reference: the tree-based validation it replaced (kept here, in
 * {@link TreeReference}, as the oracle). For every body of a corpus of valid, invalid and malformed
 * requests, on every endpoint, both must refuse with the same error, or both accept and agree on
 * every fact read (and the lazy tree equals the reference tree).
 */
class RequestParserTest {

  private static final List<String> CORPUS = List.of(
      // valid, in several shapes
      "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
      "  {\"messages\":[{\"role\":\"system\",\"content\":\"x\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"é 漢字\"}]}],"
          + " \"model\" : \"m\" , \"n\":1, \"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{}}}]}\n",
      "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
      "{\"model\":\"m\",\"stream\":false,\"stream\":true,\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"stream\":null,\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":\"true\"},\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true,\"include_usage\":false},\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"x\":{\"include_usage\":true}},\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"stream_options\":{\"include_usage\":true},\"stream_options\":null,\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"stream_options\":null,\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"max_tokens\":100,\"max_completion_tokens\":50,\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"max_tokens\":100,\"max_completion_tokens\":0,\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"max_tokens\":100.7,\"max_completion_tokens\":\"50\",\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"max_tokens\":-3,\"max_completion_tokens\":99999999999999999999999,\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"max_tokens\":1e30,\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"max_tokens\":null,\"max_completion_tokens\":[1],\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"max_tokens\":5,\"max_tokens\":7,\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"n\":10,\"max_tokens\":1000,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\"}",
      "{\"model\":\"m\",\"n\":0,\"best_of\":4,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\"}",
      "{\"model\":\"m\",\"n\":3,\"best_of\":5,\"n\":2,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\"}",
      "{\"model\":\"m\",\"n\":\"7\",\"best_of\":[2],\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\"}",
      // counts: valid at the bounds, null = absent; refused: wrong type, below 1, above the bound, huge
      "{\"model\":\"m\",\"max_tokens\":2147483647,\"n\":128,\"best_of\":20,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\"}",
      "{\"model\":\"m\",\"max_tokens\":1,\"max_completion_tokens\":null,\"n\":null,\"best_of\":null,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\"}",
      "{\"model\":\"m\",\"max_tokens\":-5,\"max_tokens\":5,\"n\":\"x\",\"n\":2,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\"}",
      "{\"model\":\"m\",\"best_of\":\"abc\",\"best_of\":2,\"best_of\":21,\"messages\":[{\"role\":\"user\"}],\"input\":\"p\"}",
      "{\"model\":\"m\",\"max_tokens\":1e999,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"max_tokens\":-5,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"max_tokens\":\"abc\",\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"max_tokens\":2147483648,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"max_tokens\":-0,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"max_tokens\":2.0,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"max_tokens\":true,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"max_tokens\":{\"a\":1},\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"max_completion_tokens\":-99999999999999999999999,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"max_completion_tokens\":1e-999,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"max_completion_tokens\":5,\"max_tokens\":\"5\",\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"n\":129,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"n\":0,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"n\":[1],\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"n\":2,\"best_of\":-1,\"max_tokens\":0,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"best_of\":1.5,\"messages\":[{\"role\":\"user\"}],\"prompt\":\"p\",\"input\":\"i\"}",
      "{\"model\":\"m\",\"max_tokens\":\"abc\",\"messages\":[]}",
      "{\"model\":\"m\",\"metadata\":{\"workflow_id\":\"wf-1\",\"workflow_type\":\"support\"},\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"metadata\":{\"workflow_id\":7,\"workflow_type\":{\"a\":1}},\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"metadata\":{\"workflow_id\":\"a\"},\"metadata\":\"x\",\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"metadata\":{\"nested\":{\"workflow_id\":\"no\"},\"workflow_id\":\"a\",\"workflow_id\":\"b\"},\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"x\",\"messages\":[{\"role\":\"user\"}],\"model\":\"m\"}",
      "{\"metadata\":{\"model\":\"nested\"},\"model\":\"m\\u0041\",\"messages\":[{\"role\":\"user\",\"content\":\"\\\"model\\\": x\"}]}",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}],\"messages\":[{\"role\":\"user\",\"role\":\"assistant\"}]}",
      "{\"model\":\"m\",\"prompt\":\"once\",\"input\":[\"a\"],\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"prompt\":[1,2],\"input\":\"x\"}",
      // refused: model
      "{\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":null,\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":42,\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":4.5,\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":[\"m\"],\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":{\"id\":\"m\"},\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":true}",
      "{\"model\":\"  \",\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"model\":null,\"messages\":[{\"role\":\"user\"}]}",
      // refused: stream, stream_options
      "{\"model\":\"m\",\"stream\":\"yes\",\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"stream\":1,\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"stream\":true,\"input\":\"x\",\"prompt\":\"y\",\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"stream_options\":[1],\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"stream_options\":true,\"messages\":[{\"role\":\"user\"}]}",
      // refused: messages
      "{\"model\":\"m\"}",
      "{\"model\":\"m\",\"messages\":null}",
      "{\"model\":\"m\",\"messages\":\"hi\"}",
      "{\"model\":\"m\",\"messages\":{\"role\":\"user\"}}",
      "{\"model\":\"m\",\"messages\":[]}",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"},\"hi\",{\"content\":\"x\"}]}",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"},{\"content\":\"x\"},7]}",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"},{\"role\":null}]}",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"},{\"role\":[\"user\"]}]}",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"},{\"role\":3.5,\"content\":{\"a\":[1,{\"role\":1}]}}]}",
      "{\"model\":\"m\",\"messages\":[[{\"role\":\"user\"}],null]}",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"role\":null}]}",
      "{\"model\":\"m\",\"messages\":[],\"messages\":[{\"role\":\"user\"}]}",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}],\"messages\":[]}",
      // refused: prompt / input
      "{\"model\":\"m\",\"prompt\":{\"a\":1},\"input\":7}",
      "{\"model\":\"m\",\"prompt\":null,\"input\":false}",
      // refused: not an object, empty, malformed, trailing
      "", "   \n", "null", "\"text\"", "[1,2,3]", "42", "true",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]",
      "{\"model\":\"m\",,\"messages\":[]}",
      "{\"model\":\"m\" \"messages\":[]}",
      "{model:\"m\"}",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]} ]",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]} x",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]} {}",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]}\n\n",
      "{\"model\":\"m\",\"x\":\"unterminated",
      "{\"model\":\"m\",\"x\":tru}",
      "{\"model\":\"m\",\"x\":[1,2,}",
      "[{\"model\":\"m\"}",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}],\"x\":" + "[".repeat(250) + "]".repeat(250) + "}",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}],\"x\":" + "[".repeat(150) + "]".repeat(150) + "}",
      "\uFEFF{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]}");

  @Test
  void agreesWithTheTreeReferenceOnEveryBodyAndEndpoint() throws Exception {
    int accepted = 0;
    int refused = 0;
    for (Endpoint endpoint : Endpoint.values()) {
      for (String body : CORPUS) {
        String what = endpoint + " " + (body.length() > 120 ? body.substring(0, 120) + "…" : body);
        Object expected = TreeReference.parse(endpoint, bytes(body));
        GatewayException thrown = null;
        ParsedRequest parsed = null;
        try {
          parsed = RequestParser.parse(endpoint, new ByteArrayInputStream(bytes(body)));
        } catch (GatewayException e) {
          thrown = e;
        }
        if (expected instanceof GatewayError error) {
          refused++;
          assertThat(thrown).as(what).isNotNull();
          GatewayError got = thrown.error();
          assertThat(java.util.Arrays.asList(got.status(), got.type(), got.code(), got.param()))
              .as(what).isEqualTo(java.util.Arrays.asList(error.status(), error.type(), error.code(), error.param()));
          if (error.message().contains("Trailing token")) {
            // worded for a client instead of naming a Jackson setting
            assertThat(got.message()).as(what).contains("Trailing token").doesNotContain("FAIL_ON_TRAILING_TOKENS");
          } else {
            assertThat(got.message()).as(what).isEqualTo(error.message());
          }
        } else {
          accepted++;
          assertThat(thrown).as(what).isNull();
          TreeReference.Facts f = (TreeReference.Facts) expected;
          assertThat(parsed.model()).as(what).isEqualTo(f.model());
          assertThat(parsed.stream()).as(what).isEqualTo(f.stream());
          assertThat(parsed.hasStreamOptions()).as(what).isEqualTo(f.hasStreamOptions());
          assertThat(parsed.clientAskedForUsage()).as(what).isEqualTo(f.askedForUsage());
          assertThat(parsed.maxOutputTokens()).as(what).isEqualTo(f.maxOutput());
          assertThat(parsed.choices()).as(what).isEqualTo(f.choices());
          assertThat(parsed.workflowId()).as(what).isEqualTo(f.workflowId());
          assertThat(parsed.workflowType()).as(what).isEqualTo(f.workflowType());
          assertThat(parsed.json()).as(what).isEqualTo(f.tree());
          ModelLocation at = parsed.modelLocation();
          if (body.indexOf("\"model\"") == body.lastIndexOf("\"model\"") || !body.contains("\"model\":\"x\"")) {
            if (at.known()) {
              byte[] b = bytes(body);
              String value = new String(b, at.modelStart(), at.modelEnd() - at.modelStart(), StandardCharsets.UTF_8);
              assertThat(RequestParser.JSON.readTree(value).textValue()).as(what).isEqualTo(f.model());
              assertThat(b[at.objectStart()]).as(what).isEqualTo((byte) '{');
            }
          }
        }
      }
    }
    assertThat(accepted).isGreaterThan(30);
    assertThat(refused).isGreaterThan(120);
  }

  @Test
  void countsAreRefusedAsTheOpenAiApiRefusesThem() {
    String chat = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}],";
    assertRefused(Endpoint.CHAT_COMPLETIONS, chat + "\"max_tokens\":1e999}", "max_tokens", "invalid_type",
        "Invalid type for 'max_tokens': expected an integer, but got a decimal instead.");
    assertRefused(Endpoint.CHAT_COMPLETIONS, chat + "\"max_tokens\":-5}", "max_tokens", "integer_below_min_value",
        "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got -5 instead.");
    assertRefused(Endpoint.CHAT_COMPLETIONS, chat + "\"max_tokens\":\"abc\"}", "max_tokens", "invalid_type",
        "Invalid type for 'max_tokens': expected an integer, but got a string instead.");
    assertRefused(Endpoint.CHAT_COMPLETIONS, chat + "\"max_completion_tokens\":0}", "max_completion_tokens",
        "integer_below_min_value",
        "Invalid 'max_completion_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead.");
    assertRefused(Endpoint.CHAT_COMPLETIONS, chat + "\"max_completion_tokens\":99999999999999999999}",
        "max_completion_tokens", "integer_above_max_value", "Invalid 'max_completion_tokens': integer above maximum"
            + " value. Expected a value <= 2147483647, but got 99999999999999999999 instead.");
    assertRefused(Endpoint.CHAT_COMPLETIONS, chat + "\"n\":129}", "n", "integer_above_max_value",
        "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 129 instead.");
    assertRefused(Endpoint.CHAT_COMPLETIONS, chat + "\"n\":-5}", "n", "integer_below_min_value",
        "Invalid 'n': integer below minimum value. Expected a value >= 1, but got -5 instead.");
    assertRefused(Endpoint.COMPLETIONS, "{\"model\":\"m\",\"prompt\":\"p\",\"best_of\":21}", "best_of",
        "integer_above_max_value",
        "Invalid 'best_of': integer above maximum value. Expected a value <= 20, but got 21 instead.");
    ParsedRequest ok = RequestParser.parse(Endpoint.COMPLETIONS, new ByteArrayInputStream(bytes(
        "{\"model\":\"m\",\"prompt\":\"p\",\"max_tokens\":null,\"max_completion_tokens\":7,\"n\":3,\"best_of\":20}")));
    assertThat(ok.maxOutputTokens()).isEqualTo(7);
    assertThat(ok.choices()).isEqualTo(20);
  }

  private static void assertRefused(Endpoint endpoint, String body, String param, String code, String message) {
    GatewayException e = catchThrowableOfType(GatewayException.class,
        () -> RequestParser.parse(endpoint, new ByteArrayInputStream(bytes(body))));
    assertThat(e).as(body).isNotNull();
    assertThat(e.error().status()).as(body).isEqualTo(400);
    assertThat(e.error().type()).as(body).isEqualTo("invalid_request_error");
    assertThat(e.error().param()).as(body).isEqualTo(param);
    assertThat(e.error().code()).as(body).isEqualTo(code);
    assertThat(e.error().message()).as(body).isEqualTo(message);
  }

  @Test
  void theModelIsLocatedForASpliceUnlessItAppearsTwice() {
    ParsedRequest one = RequestParser.parse(Endpoint.CHAT_COMPLETIONS,
        new ByteArrayInputStream(bytes("  {\"n\":1,\"model\" : \"gpt-4o\",\"messages\":[{\"role\":\"user\"}]}")));
    assertThat(one.modelLocation()).isEqualTo(new ModelLocation(2, 19, 27));
    ParsedRequest two = RequestParser.parse(Endpoint.CHAT_COMPLETIONS,
        new ByteArrayInputStream(bytes("{\"model\":\"a\",\"messages\":[{\"role\":\"user\"}],\"model\":\"b\"}")));
    assertThat(two.model()).isEqualTo("b");
    assertThat(two.modelLocation().known()).isFalse();
  }

  @Test
  void theTreeIsBuiltOnlyWhenAskedForAndOnce() {
    ParsedRequest p = RequestParser.parse(Endpoint.CHAT_COMPLETIONS,
        new ByteArrayInputStream(bytes("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")));
    ObjectNode first = p.json();
    assertThat(first.at("/messages/0/content").textValue()).isEqualTo("hi");
    assertThat(p.json()).isSameAs(first);
  }

  @Test
  void malformedJsonIsRefusedBeforeAnyFieldIsJudged() {
    // a missing model would be the first complaint of a well-formed body; malformed JSON comes first
    GatewayException e = catchThrowableOfType(GatewayException.class, () -> RequestParser.parse(Endpoint.CHAT_COMPLETIONS,
        new ByteArrayInputStream(bytes("{\"messages\":[{\"role\":\"user\"}],\"x\":[}"))));
    assertThat(e.error().code()).isNotEqualTo("missing_required_parameter");
    assertThat(e.error().status()).isEqualTo(400);
    assertThat(e.error().param()).isNull();
  }

  @Test
  void streamsThatMisstateTheirSizeAreReadWhole() {
    byte[] body = bytes("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}");
    for (int claimed : new int[] {0, 1, 10, body.length - 1, body.length, body.length + 5}) {
      ByteArrayInputStream in = new ByteArrayInputStream(body) {
        @Override
        public synchronized int available() {
          return claimed;
        }
      };
      ParsedRequest p = RequestParser.parse(Endpoint.CHAT_COMPLETIONS, in);
      assertThat(p.json().at("/messages/0/content").textValue()).as("available() = %d", claimed).isEqualTo("hello there");
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The tree-based parser this class replaced, verbatim in its checks, plus the count checks added since
   * ({@code max_completion_tokens}, {@code max_tokens}, {@code n}, {@code best_of}): the test's oracle.
   */
  static final class TreeReference {
    record Facts(String model, boolean stream, boolean hasStreamOptions, boolean askedForUsage, long maxOutput,
        long choices, String workflowId, String workflowType, ObjectNode tree) {}

    static Object parse(Endpoint endpoint, byte[] body) {
      try {
        return facts(endpoint, body);
      } catch (GatewayException e) {
        return e.error();
      }
    }

    private static Facts facts(Endpoint endpoint, byte[] body) {
      JsonNode root;
      try {
        root = RequestParser.JSON.readTree(new ByteArrayInputStream(body));
      } catch (JsonProcessingException e) {
        throw new GatewayException(GatewayError.malformedJson(e.getOriginalMessage()));
      } catch (java.io.IOException e) {
        throw new GatewayException(GatewayError.malformedJson(String.valueOf(e.getMessage())));
      }
      if (root == null || root.isMissingNode()) {
        throw new GatewayException(GatewayError.malformedJson("the body is empty"));
      }
      if (!root.isObject()) {
        throw new GatewayException(GatewayError.malformedJson("expected a JSON object, got " + describe(root)));
      }
      ObjectNode json = (ObjectNode) root;
      JsonNode m = json.get("model");
      if (m == null || m.isNull()) {
        throw new GatewayException(GatewayError.missingParam("model"));
      }
      if (!m.isTextual()) {
        throw new GatewayException(GatewayError.invalidType("model", "a string", describe(m)));
      }
      String model = m.textValue();
      if (model.isBlank()) {
        throw new GatewayException(GatewayError.invalidValue("model", "'model' must not be empty."));
      }
      JsonNode s = json.get("stream");
      boolean stream = false;
      if (s != null && !s.isNull()) {
        if (!s.isBoolean()) {
          throw new GatewayException(GatewayError.invalidType("stream", "a boolean", describe(s)));
        }
        stream = s.booleanValue();
      }
      if (stream && !endpoint.streamable()) {
        throw new GatewayException(GatewayError.invalidValue("stream", "This endpoint does not support streaming."));
      }
      JsonNode so = json.get("stream_options");
      if (so != null && !so.isNull() && !so.isObject()) {
        throw new GatewayException(GatewayError.invalidType("stream_options", "an object", describe(so)));
      }
      switch (endpoint) {
        case CHAT_COMPLETIONS -> messages(json);
        case COMPLETIONS -> stringOrArray(json, "prompt");
        case EMBEDDINGS -> stringOrArray(json, "input");
      }
      JsonNode usage = json.path("stream_options").path("include_usage");
      long maxCompletionTokens = count(json, "max_completion_tokens", RequestParser.MAX_OUTPUT_TOKENS);
      long maxTokens = count(json, "max_tokens", RequestParser.MAX_OUTPUT_TOKENS);
      long n = count(json, "n", RequestParser.MAX_N);
      long bestOf = endpoint == Endpoint.COMPLETIONS ? count(json, "best_of", RequestParser.MAX_BEST_OF) : -1;
      long maxOutput = maxCompletionTokens > 0 ? maxCompletionTokens : maxTokens;
      long choices = Math.max(1, Math.max(n, bestOf));
      JsonNode meta = json.get("metadata");
      String wid = null;
      String wtype = null;
      if (meta != null && meta.isObject()) {
        wid = meta.path("workflow_id").isTextual() ? meta.get("workflow_id").textValue() : null;
        wtype = meta.path("workflow_type").isTextual() ? meta.get("workflow_type").textValue() : null;
      }
      return new Facts(model, stream, json.has("stream_options"), usage.isBoolean() && usage.booleanValue(),
          maxOutput, choices, wid, wtype, json);
    }

    /** A count field: absent or null (-1), else an integer from 1 to {@code max}. */
    private static long count(ObjectNode json, String field, long max) {
      JsonNode v = json.get(field);
      if (v == null || v.isNull()) {
        return -1;
      }
      if (!v.isIntegralNumber()) {
        throw new GatewayException(GatewayError.invalidType(field, "an integer", describe(v)));
      }
      java.math.BigInteger x = v.bigIntegerValue();
      if (x.signum() <= 0) {
        throw new GatewayException(GatewayError.belowMinimum(field, true, "1", x.toString()));
      }
      if (x.compareTo(java.math.BigInteger.valueOf(max)) > 0) {
        throw new GatewayException(GatewayError.aboveMaximum(field, true, Long.toString(max), x.toString()));
      }
      return x.longValue();
    }

    private static void messages(ObjectNode json) {
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

    static String describe(JsonNode n) {
      return switch (n.getNodeType()) {
        case ARRAY -> "an array";
        case BOOLEAN -> "a boolean";
        case NUMBER -> n.isIntegralNumber() ? "an integer" : "a decimal";
        case OBJECT, POJO -> "an object";
        case STRING, BINARY -> "a string";
        case NULL, MISSING -> "null";
      };
    }

    private static void stringOrArray(ObjectNode json, String field) {
      JsonNode v = json.get(field);
      if (v == null || v.isNull()) {
        throw new GatewayException(GatewayError.missingParam(field));
      }
      if (!v.isTextual() && !v.isArray()) {
        throw new GatewayException(GatewayError.invalidType(field, "a string or an array", describe(v)));
      }
    }
  }
}
