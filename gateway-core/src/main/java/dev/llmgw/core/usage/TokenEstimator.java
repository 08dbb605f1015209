package dev.llmgw.core.usage;

import com.fasterxml.jackson.databind.JsonNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;

/**
 * Counts tokens with a real tokenizer (jtokkit, {@code o200k_base}) where a backend reported no
 * usage — the result is marked estimated by the caller, and "missing" is never recorded as zero.
 * Work is capped: beyond {@link #MAX_CHARS} characters the count is extrapolated from the counted
 * prefix. Thread-safe.
 */
public final class TokenEstimator {
  /** Characters tokenized exactly; longer texts are extrapolated. */
  public static final int MAX_CHARS = 200_000;
  /** Per-message framing overhead of chat formats (role markers), as OpenAI documents it (~3-4). */
  private static final int PER_MESSAGE = 4;

  private static final Encoding ENCODING = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.O200K_BASE);

  private TokenEstimator() {}

  public static long count(String text) {
    if (text == null || text.isEmpty()) {
      return 0;
    }
    if (text.length() <= MAX_CHARS) {
      return ENCODING.countTokensOrdinary(text);
    }
    long prefix = ENCODING.countTokensOrdinary(text.substring(0, MAX_CHARS));
    return Math.round(prefix * ((double) text.length() / MAX_CHARS));
  }

  /** Prompt tokens of a chat ({@code messages}) or completion ({@code prompt}) request body. */
  public static long promptTokens(JsonNode request) {
    long total = 0;
    JsonNode messages = request.get("messages");
    if (messages != null && messages.isArray()) {
      for (JsonNode m : messages) {
        total += PER_MESSAGE + count(text(m.get("content")));
      }
      return total + 3;
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
