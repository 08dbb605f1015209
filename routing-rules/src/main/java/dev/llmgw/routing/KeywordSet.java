package dev.llmgw.routing;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A set of keywords found in one pass over a text: case-insensitive, whole words, built once at
 * compile time into tries of lower-cased characters (the equivalent of one precompiled
 * {@code (?i)\b(?:kw1|kw2|...)\b} pattern, without trying every alternative at every position).
 * Searching allocates nothing.
 *
 * <p>A keyword matches where it starts after a non-word character (or at the start of the text) and
 * ends before one (or at the end); word characters are letters, digits and {@code _}. Whitespace in a
 * keyword phrase matches any run of whitespace. A trailing {@code *} drops the end condition, so
 * {@code diagnos*} matches {@code diagnosis} and {@code diagnosed}; a leading {@code *} (one word
 * only) drops the start condition, so {@code *itis} matches any word ending in {@code itis}.
 */
final class KeywordSet {

  private static final boolean[] ASCII_WORD = new boolean[128];
  private static final char[] ASCII_LOWER = new char[128];

  static {
    for (char c = 0; c < 128; c++) {
      ASCII_WORD[c] = Character.isLetterOrDigit(c) || c == '_';
      ASCII_LOWER[c] = Character.toLowerCase(c);
    }
  }

  /** Forward trie: keywords and prefixes, walked from a word start. */
  private final Node root = new Node();
  /** Reverse trie: {@code *suffix} keywords reversed, walked back from a word end. */
  private final Node suffixes = new Node();
  private final boolean hasSuffixes;
  private final int size;

  /** @param keywords validated keywords: not blank, {@code *} only first (one word) or last */
  KeywordSet(List<String> keywords) {
    boolean anySuffix = false;
    for (String k : keywords) {
      anySuffix |= add(normalize(k));
    }
    this.hasSuffixes = anySuffix;
    this.size = keywords.size();
    root.index();
  }

  int size() {
    return size;
  }

  /** Normal form used for duplicate checks: lower case, single spaces. */
  static String normalize(String keyword) {
    return keyword.strip().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
  }

  boolean containedIn(CharSequence text) {
    return search(text) >= 0;
  }

  /** The first match as {@code start << 32 | end}, or {@code -1}. */
  long search(CharSequence text) {
    int n = text.length();
    boolean atStart = true;
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      boolean word = isWordChar(c);
      if (atStart && root.child(lower(c)) != null) {
        int end = matchAt(text, i, n);
        if (end >= 0) {
          return (long) i << 32 | end;
        }
      }
      if (hasSuffixes && word && (i + 1 == n || !isWordChar(text.charAt(i + 1)))) {
        int start = suffixAt(text, i);
        if (start >= 0) {
          return (long) start << 32 | (i + 1);
        }
      }
      atStart = !word;
    }
    return -1;
  }

  /** The text of the first match, or {@code null}; for traces. */
  String firstMatch(CharSequence text) {
    long span = search(text);
    return span < 0 ? null : text.subSequence((int) (span >>> 32), (int) span).toString();
  }

  private int matchAt(CharSequence text, int start, int n) {
    Node node = root;
    int j = start;
    while (j < n) {
      char c = text.charAt(j);
      char key;
      if (Character.isWhitespace(c)) {
        key = ' ';
        while (j < n && Character.isWhitespace(text.charAt(j))) {
          j++;
        }
      } else {
        key = lower(c);
        j++;
      }
      node = node.child(key);
      if (node == null) {
        return -1;
      }
      if (node.prefix) {
        while (j < n && isWordChar(text.charAt(j))) {
          j++;
        }
        return j;
      }
      if (node.terminal && (j == n || !isWordChar(text.charAt(j)))) {
        return j;
      }
    }
    return -1;
  }

  /** Start of the word ending at {@code last} when a suffix keyword ends it, else -1. */
  private int suffixAt(CharSequence text, int last) {
    Node node = suffixes;
    for (int j = last; j >= 0; j--) {
      node = node.child(lower(text.charAt(j)));
      if (node == null) {
        return -1;
      }
      if (node.terminal) {
        int start = j;
        while (start > 0 && isWordChar(text.charAt(start - 1))) {
          start--;
        }
        return start;
      }
    }
    return -1;
  }

  static boolean isWordChar(char c) {
    return c < 128 ? ASCII_WORD[c] : Character.isLetterOrDigit(c) || c == '_';
  }

  private static char lower(char c) {
    return c < 128 ? ASCII_LOWER[c] : Character.toLowerCase(c);
  }

  /** Adds a normalized keyword; returns whether it is a suffix keyword. */
  private boolean add(String k) {
    if (k.startsWith("*")) {
      Node node = suffixes;
      for (int i = k.length() - 1; i >= 1; i--) {
        node = node.childOrAdd(k.charAt(i));
      }
      node.terminal = true;
      return true;
    }
    boolean prefix = k.endsWith("*");
    String body = prefix ? k.substring(0, k.length() - 1).stripTrailing() : k;
    Node node = root;
    for (int i = 0; i < body.length(); i++) {
      node = node.childOrAdd(body.charAt(i));
    }
    node.terminal = true;
    node.prefix |= prefix;
    return false;
  }

  /** A trie node: children kept in parallel arrays sorted by key, plus a direct ASCII table. */
  private static final class Node {
    private char[] keys = new char[0];
    private Node[] next = new Node[0];
    private Node[] ascii;
    boolean terminal;
    boolean prefix;

    Node child(char c) {
      if (ascii != null && c < 128) {
        return ascii[c];
      }
      int i = Arrays.binarySearch(keys, c);
      return i >= 0 ? next[i] : null;
    }

    /** Builds the ASCII table (for the root, where every position of the text is looked up). */
    void index() {
      ascii = new Node[128];
      for (int i = 0; i < keys.length; i++) {
        if (keys[i] < 128) {
          ascii[keys[i]] = next[i];
        }
      }
    }

    Node childOrAdd(char c) {
      int i = Arrays.binarySearch(keys, c);
      if (i >= 0) {
        return next[i];
      }
      int at = -i - 1;
      char[] k = new char[keys.length + 1];
      Node[] x = new Node[next.length + 1];
      System.arraycopy(keys, 0, k, 0, at);
      System.arraycopy(next, 0, x, 0, at);
      k[at] = c;
      x[at] = new Node();
      System.arraycopy(keys, at, k, at + 1, keys.length - at);
      System.arraycopy(next, at, x, at + 1, next.length - at);
      keys = k;
      next = x;
      return x[at];
    }
  }
}
