package dev.llmgw.core.usage;

import java.nio.charset.StandardCharsets;

/**
 * The cheap look at an event's data line that decides whether it is worth parsing: one pass over the
 * bytes, looking only at what follows each quote, for a {@code "usage"} key whose value is an object
 * ({@link #HAS_USAGE}) and a {@code "content"}, {@code "reasoning_content"}, {@code "text"} or
 * {@code "arguments"} key whose value is a non-empty string ({@link #HAS_TEXT}). It may say yes for a
 * key that is not where the parse looks (nested, or inside a string); it never says no for one that is.
 */
final class DataLineCheck {
  static final int HAS_USAGE = 1;
  static final int HAS_TEXT = 2;

  // key names after the opening quote, closing quote included
  private static final byte[] USAGE_KEY = ascii("usage\"");
  private static final byte[][] TEXT_KEYS = {
      ascii("content\""), ascii("text\""), ascii("reasoning_content\""), ascii("arguments\"")};
  private static final byte QUOTE = '"';

  private DataLineCheck() {}

  /** {@link #HAS_USAGE} and/or {@link #HAS_TEXT} for {@code a[from, to)}, or 0. */
  static int kinds(byte[] a, int from, int to) {
    int kinds = 0;
    for (int q = from; q < to && kinds != (HAS_USAGE | HAS_TEXT); q++) {
      if (a[q] != QUOTE) {
        continue;
      }
      int k = q + 1;
      if (startsWith(a, k, to, USAGE_KEY)) {
        int v = valueStart(a, k + USAGE_KEY.length, to);
        if (v >= 0 && a[v] == '{') {
          kinds |= HAS_USAGE;
        }
      } else if ((kinds & HAS_TEXT) == 0) {
        for (byte[] key : TEXT_KEYS) {
          if (startsWith(a, k, to, key)) {
            int v = valueStart(a, k + key.length, to);
            if (v >= 0 && v + 1 < to && a[v] == QUOTE && a[v + 1] != QUOTE) {
              kinds |= HAS_TEXT;
            }
            break;
          }
        }
      }
    }
    return kinds;
  }

  /** Whether {@code a[from, to)} starts with {@code prefix}. */
  static boolean startsWith(byte[] a, int from, int to, byte[] prefix) {
    if (to - from < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (a[from + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** The index of the value after a key's closing quote ({@code ws : ws}), or -1. */
  private static int valueStart(byte[] a, int i, int to) {
    while (i < to && isSpace(a[i])) {
      i++;
    }
    if (i >= to || a[i] != ':') {
      return -1;
    }
    i++;
    while (i < to && isSpace(a[i])) {
      i++;
    }
    return i < to ? i : -1;
  }

  /** JSON whitespace. */
  static boolean isSpace(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
