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

  private static volatile boolean loaded;

  /**
   * The vocabulary, read on first use: about half a second of one core. {@link #warmUp()} reads it at
   * start-up, so that the first stream ending without usage (on an event loop) does not pay for it.
   */
  private static final class Holder {
    static final Encoding ENCODING = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.O200K_BASE);

    static {
      loaded = true;
    }
  }

  private TokenEstimator() {}

  /** Reads the vocabulary now (blocking; call it at start-up, off the event loops). */
  public static void warmUp() {
    Holder.ENCODING.countTokensOrdinary("warm up");
  }

  /** Whether the vocabulary is in memory (start-up's {@link #warmUp()} or a first use). */
  public static boolean loaded() {
    return loaded;
  }

  public static long count(String text) {
    if (text == null || text.isEmpty()) {
      return 0;
    }
    if (text.length() <= MAX_CHARS) {
      return Holder.ENCODING.countTokensOrdinary(text);
    }
    long prefix = Holder.ENCODING.countTokensOrdinary(text.substring(0, MAX_CHARS));
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
