package dev.llmgw.routing;

/**
 * Prompt-token estimates with jtokkit's {@code cl100k_base} encoding (GPT-4's). For English its
 * counts are within a few percent of GPT-4o's {@code o200k_base} (o200k is denser for other
 * languages, so this errs high there), and jtokkit tokenizes it about 2.5 times faster (a dedicated
 * pre-tokenizer instead of a regex): this runs on the request path.
 *
 * <p>Each message's text is counted as ordinary text (special-token strings are not special), plus,
 * for chat requests, {@value #PER_MESSAGE} tokens per message and {@value #PER_REQUEST} per request,
 * OpenAI's published approximation of the chat framing. The work is bounded ({@link TokenCount}):
 * up to {@value TokenCount#EXACT_CHARS} characters of text are counted exactly, a longer prompt is
 * estimated from windows spread over it.
 */
final class PromptTokens {

  static final int PER_MESSAGE = 4;
  static final int PER_REQUEST = 3;

  private PromptTokens() {}

  static int estimate(MessageScan scan) {
    long tokens = TokenCount.count(Vocabulary.CL100K.encoding(), java.util.Arrays.asList(scan.texts));
    return (int) Math.min(Integer.MAX_VALUE, tokens + overhead(scan));
  }

  /**
   * A bound the estimate never exceeds, from UTF-8 lengths (a token is at least one byte), without
   * tokenizing. Only meaningful below the cap, where the estimate is an exact count.
   */
  static long upperBound(MessageScan scan) {
    long bytes = 0;
    long chars = 0;
    for (String t : scan.texts) {
      chars += t.length();
      if (chars > TokenCount.EXACT_CHARS) {
        return Long.MAX_VALUE;
      }
      bytes += utf8Length(t);
    }
    return bytes + overhead(scan);
  }

  private static long overhead(MessageScan scan) {
    return scan.chat ? (long) PER_MESSAGE * scan.texts.length + PER_REQUEST : 0;
  }

  private static long utf8Length(String s) {
    long n = 0;
    for (int i = 0, len = s.length(); i < len; i++) {
      char c = s.charAt(i);
      n += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3;
    }
    return n;
  }
}
