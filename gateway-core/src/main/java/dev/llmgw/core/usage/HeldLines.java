package dev.llmgw.core.usage;

import java.util.Arrays;

/**
 * Data lines kept raw for a later parse, in order, in one array (each followed by a {@code \n}, which
 * a data line cannot contain) that grows by doubling from 8 KiB up to a cap of held bytes. Not
 * thread-safe.
 */
final class HeldLines {
  private static final byte LF = '\n';
  private static final byte[] EMPTY = new byte[0];

  private final int cap;
  private byte[] bytes = EMPTY;
  private int length;

  /** @param cap the most bytes held, line ends included */
  HeldLines(int cap) {
    this.cap = cap;
  }

  /** Holds {@code a[from, to)}; false, holding nothing more, when that would pass the cap. */
  boolean add(byte[] a, int from, int to) {
    int len = to - from;
    int need = length + len + 1;
    if (need > cap) {
      return false;
    }
    if (bytes.length < need) {
      bytes = Arrays.copyOf(bytes, Math.min(cap, Math.max(need, Math.max(8 * 1024, length * 2))));
    }
    System.arraycopy(a, from, bytes, length, len);
    bytes[length + len] = LF;
    length = need;
    return true;
  }

  /**
   * Hands every held line to {@code each}, in order, and forgets them (the array is let go before,
   * so what {@code each} does cannot disturb the walk).
   */
  void drainTo(LineReader each) {
    byte[] b = bytes;
    int n = length;
    bytes = EMPTY;
    length = 0;
    for (int from = 0; from < n; ) {
      int to = from;
      while (b[to] != LF) {
        to++;
      }
      each.read(b, from, to);
      from = to + 1;
    }
  }

  /** Bytes held, line ends included. */
  int length() {
    return length;
  }

  /** One line at a time. */
  interface LineReader {
    void read(byte[] a, int from, int to);
  }
}
