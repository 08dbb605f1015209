package dev.llmgw.core.upstream.inprocess;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.upstream.inprocess.InferenceEngine.Message;
import java.util.ArrayList;
import java.util.List;

/**
 * An OpenAI completion or chat completion request as the in-process backend reads it (the body the
 * gateway built: model rewritten, {@code stream_options.include_usage} set on streams).
 *
 * <p>Read: {@code messages} (text content, or text parts) or {@code prompt} (a string, or a list of
 * one), {@code max_tokens} / {@code max_completion_tokens}, {@code temperature}, {@code top_p},
 * {@code seed}, {@code stop}, {@code presence_penalty}, {@code frequency_penalty}, {@code stream},
 * {@code stream_options.include_usage}, {@code n} (1 only), and llama.cpp's own {@code top_k},
 * {@code min_p}, {@code repeat_penalty}, {@code ignore_eos}. Other fields (tools, logprobs,
 * response_format, ...) are ignored, as by most local servers; image and audio parts are refused.
 */
record InferenceRequest(
    boolean chat,
    String model,
    List<Message> messages,
    String prompt,
    boolean stream,
    boolean includeUsage,
    Integer maxTokens,
    Float temperature,
    Float topP,
    Integer topK,
    Float minP,
    Integer seed,
    Float presencePenalty,
    Float frequencyPenalty,
    Float repeatPenalty,
    boolean ignoreEos,
    List<String> stop) {

  /** The request cannot be served as written: answer {@link #error()} (a 400). */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient GatewayError error;

    Refused(GatewayError error) {
      super(error.message(), null, false, false);
      this.error = error;
    }

    GatewayError error() {
      return error;
    }
  }

  static InferenceRequest parse(boolean chat, JsonNode root) throws Refused {
    if (root == null || !root.isObject()) {
      throw new Refused(GatewayError.malformedJson("expected a JSON object"));
    }
    String model = root.path("model").asText("");
    List<Message> messages = null;
    String prompt = null;
    if (chat) {
      messages = messages(root.get("messages"));
    } else {
      prompt = prompt(root.get("prompt"));
    }
    JsonNode n = root.get("n");
    if (n != null && !n.isNull() && n.asInt(1) != 1) {
      throw new Refused(GatewayError.invalidValue("n", "The in-process model generates one choice per request"
          + " (n must be 1)."));
    }
    Integer maxTokens = integer(root, "max_completion_tokens", 1);
    if (maxTokens == null) {
      maxTokens = integer(root, "max_tokens", 1);
    }
    JsonNode opts = root.get("stream_options");
    return new InferenceRequest(chat, model, messages, prompt, root.path("stream").asBoolean(false),
        opts != null && opts.path("include_usage").asBoolean(false), maxTokens,
        decimal(root, "temperature"), decimal(root, "top_p"), integer(root, "top_k", 0), decimal(root, "min_p"),
        integer(root, "seed", Integer.MIN_VALUE), decimal(root, "presence_penalty"),
        decimal(root, "frequency_penalty"), decimal(root, "repeat_penalty"), root.path("ignore_eos").asBoolean(false),
        stop(root.get("stop")));
  }

  private static List<Message> messages(JsonNode list) throws Refused {
    if (list == null || !list.isArray() || list.isEmpty()) {
      throw new Refused(GatewayError.invalidValue("messages", "'messages' must be a non-empty array."));
    }
    List<Message> out = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      JsonNode m = list.get(i);
      String role = m.path("role").asText("user");
      JsonNode content = m.get("content");
      String text;
      if (content == null || content.isNull()) {
        text = "";
      } else if (content.isTextual()) {
        text = content.textValue();
      } else if (content.isArray()) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : content) {
          String type = part.path("type").asText("");
          if (type.equals("text")) {
            sb.append(part.path("text").asText(""));
          } else if (!type.equals("refusal")) {
            throw new Refused(GatewayError.invalidValue("messages[" + i + "].content", "The in-process model reads"
                + " text only; a '" + type + "' part cannot be used."));
          }
        }
        text = sb.toString();
      } else {
        throw new Refused(GatewayError.invalidType("messages[" + i + "].content", "a string or an array of parts",
            content.getNodeType().name().toLowerCase(java.util.Locale.ROOT)));
      }
      out.add(new Message(role, text));
    }
    return out;
  }

  private static String prompt(JsonNode p) throws Refused {
    if (p != null && p.isTextual()) {
      return p.textValue();
    }
    if (p != null && p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
      return p.get(0).textValue();
    }
    throw new Refused(GatewayError.invalidValue("prompt", "The in-process model takes one prompt: a string (or a"
        + " list of one string)."));
  }

  private static List<String> stop(JsonNode s) throws Refused {
    if (s == null || s.isNull()) {
      return List.of();
    }
    if (s.isTextual()) {
      return s.textValue().isEmpty() ? List.of() : List.of(s.textValue());
    }
    if (s.isArray()) {
      List<String> out = new ArrayList<>();
      for (JsonNode e : s) {
        if (!e.isTextual()) {
          throw new Refused(GatewayError.invalidType("stop", "a string or an array of strings", "an array of "
              + e.getNodeType().name().toLowerCase(java.util.Locale.ROOT)));
        }
        if (!e.textValue().isEmpty()) {
          out.add(e.textValue());
        }
      }
      return out;
    }
    throw new Refused(GatewayError.invalidType("stop", "a string or an array of strings",
        s.getNodeType().name().toLowerCase(java.util.Locale.ROOT)));
  }

  private static Float decimal(JsonNode root, String field) throws Refused {
    JsonNode v = root.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber()) {
      throw new Refused(GatewayError.invalidType(field, "a number", v.getNodeType().name().toLowerCase(
          java.util.Locale.ROOT)));
    }
    return (float) v.doubleValue();
  }

  private static Integer integer(JsonNode root, String field, int min) throws Refused {
    JsonNode v = root.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw new Refused(GatewayError.invalidType(field, "an integer", v.getNodeType().name().toLowerCase(
          java.util.Locale.ROOT)));
    }
    if (v.intValue() < min) {
      throw new Refused(GatewayError.invalidValue(field, "'" + field + "' must be at least " + min + "."));
    }
    return v.intValue();
  }
}
