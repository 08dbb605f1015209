package dev.llmgw.core.usage;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.routing.TokenCount;
import dev.llmgw.routing.Vocabulary;
import java.util.ArrayList;
import java.util.List;

/**
 * Counts tokens with a real tokenizer (jtokkit, {@code o200k_base}) where a backend reported no
 * usage — the result is marked estimated by the caller, and "missing" is never recorded as zero.
 * The vocabulary is {@link Vocabulary#O200K} (read at start-up by the server).
 * Work is bounded ({@link TokenCount}: this runs on an event loop): beyond
 * {@value TokenCount#EXACT_CHARS} characters the count is estimated from windows spread over the
 * text. Thread-safe.
 */
public final class TokenEstimator {
  /** Per-message framing overhead of chat formats (role markers), as OpenAI documents it (~3-4). */
  private static final int PER_MESSAGE = 4;

  private TokenEstimator() {}

  public static long count(String text) {
    if (text == null || text.isEmpty()) {
      return 0;
    }
    return TokenCount.count(Vocabulary.O200K.encoding(), text);
  }

  /** Prompt tokens of a chat ({@code messages}) or completion ({@code prompt}) request body. */
  public static long promptTokens(JsonNode request) {
    JsonNode messages = request.get("messages");
    if (messages != null && messages.isArray()) {
      List<String> texts = new ArrayList<>(messages.size());
      for (JsonNode m : messages) {
        texts.add(text(m.get("content")));
      }
      return (long) PER_MESSAGE * texts.size() + TokenCount.count(Vocabulary.O200K.encoding(), texts) + 3;
    }
    return count(text(request.get("prompt")));
  }

  /** The text of a string, an array of strings, or an array of content parts ({@code {type:text,text}}). */
  static String text(JsonNode n) {
    if (n == null || n.isNull()) {
      return "";
    }
    if (n.isTextual()) {
      return n.textValue();
    }
    if (n.isArray()) {
      StringBuilder sb = new StringBuilder();
      for (JsonNode part : n) {
        if (part.isTextual()) {
          sb.append(part.textValue()).append('\n');
        } else if (part.has("text")) {
          sb.append(part.get("text").asText()).append('\n');
        }
      }
      return sb.toString();
    }
    return "";
  }
}
