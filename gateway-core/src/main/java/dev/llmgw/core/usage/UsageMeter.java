package dev.llmgw.core.usage;

/**
 * What one response reported, for metering: the backend's token usage (the last one reported wins:
 * vLLM's continuous usage is cumulative) and the generated text, kept only to estimate a usage the
 * backend did not send — at most {@link #TEXT_CAP} chars, a prefix, never half a surrogate pair.
 * Not thread-safe.
 */
final class UsageMeter {
  /** Generated text kept for estimation, in chars. */
  static final int TEXT_CAP = 64 * 1024;

  private TokenUsage usage;
  /** Created with the first text (a response that reports its usage usually never needs one). */
  private StringBuilder text;
  private boolean textTruncated;

  /** Records a usage the backend reported; null (none) changes nothing. */
  void report(TokenUsage reported) {
    if (reported != null) {
      usage = reported;
    }
  }

  /** The last usage reported, or null. */
  TokenUsage usage() {
    return usage;
  }

  /** Appends {@code chars[off, off + len)} to the text, up to the cap; nothing once some was left out. */
  void appendText(char[] chars, int off, int len) {
    if (len == 0 || textTruncated) {
      return;
    }
    if (text == null) {
      text = new StringBuilder(Math.max(16, Math.min(len, TEXT_CAP)));
    }
    int room = TEXT_CAP - text.length();
    if (room <= 0) {
      textTruncated = true;
      return;
    }
    int n = Math.min(room, len);
    if (n < len) {
      textTruncated = true;
      if (Character.isHighSurrogate(chars[off + n - 1])) {
        n--; // never keep half a surrogate pair
      }
    }
    text.append(chars, off, n);
  }

  /** Whether text is no longer kept (the cap is reached). */
  boolean textFull() {
    return textTruncated || text != null && text.length() >= TEXT_CAP;
  }

  /** Records that generated text was seen and not kept. */
  void markTruncated() {
    textTruncated = true;
  }

  /** Whether some generated text was not kept ({@link #text()} is then a prefix). */
  boolean textTruncated() {
    return textTruncated;
  }

  /** The generated text kept; "" if none. */
  String text() {
    return text == null ? "" : text.toString();
  }
}
