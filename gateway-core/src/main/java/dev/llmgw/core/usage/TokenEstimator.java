package dev.llmgw.core.usage;

import com.fasterxml.jackson.databind.JsonNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.llmgw.routing.TokenCount;
import java.util.ArrayList;
import java.util.List;

/**
 * Counts tokens with a real tokenizer (jtokkit, {@code o200k_base}) where a backend reported no
 * usage — the result is marked estimated by the caller, and "missing" is never recorded as zero.
 * Work is bounded ({@link TokenCount}: this runs on an event loop): beyond
 * {@value TokenCount#EXACT_CHARS} characters the count is estimated from windows spread over the
 * text. Thread-safe.
 */
public final class TokenEstimator {
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
    return TokenCount.count(Holder.ENCODING, text);
  }

  /** Prompt tokens of a chat ({@code messages}) or completion ({@code prompt}) request body. */
  public static long promptTokens(JsonNode request) {
    JsonNode messages = request.get("messages");
    if (messages != null && messages.isArray()) {
      List<String> texts = new ArrayList<>(messages.size());
      for (JsonNode m : messages) {
        texts.add(text(m.get("content")));
      }
      return (long) PER_MESSAGE * texts.size() + TokenCount.count(Holder.ENCODING, texts) + 3;
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
