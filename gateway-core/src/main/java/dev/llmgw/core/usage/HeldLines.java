package dev.llmgw.core.usage;

import io.netty.util.Recycler;
import java.util.Arrays;

/**
 * Data lines kept raw for a later parse, in order, in one array (each followed by a {@code \n}, which
 * a data line cannot contain). The first 8 KiB come from a per-thread pool of arrays (Netty's
 * {@link Recycler}) and go back at {@link #drainTo} or {@link #release}: a fresh 8 KiB array per stream
 * was the largest allocation of a relayed stream, and half of what each young collection copied at 128
 * streams (each held its array for the whole stream). Past 8 KiB the lines move to an array of their own
 * that grows by doubling up to a cap of held bytes. Not thread-safe.
 */
final class HeldLines {
  private static final byte LF = '\n';
  private static final byte[] EMPTY = new byte[0];
  static final int BLOCK = 8 * 1024;
  /** Pooled arrays kept per thread, at most (2 MiB): more streams than that at once allocate their own. */
  private static final int POOLED_PER_THREAD = 256;

  /** A pooled array and its way back. */
  private static final class Block {
    final byte[] bytes = new byte[BLOCK];
    private final Recycler.Handle<Block> handle;

    Block(Recycler.Handle<Block> handle) {
      this.handle = handle;
    }

    void recycle() {
      handle.recycle(this);
    }
  }

  // every new block is poolable (interval 1): the pool reaches the streams' concurrency at once
  private static final Recycler<Block> BLOCKS = new Recycler<>(POOLED_PER_THREAD, 1, 32) {
    @Override
    protected Block newObject(Handle<Block> handle) {
      return new Block(handle);
    }
  };

  private final int cap;
  private Block block; // the pooled array `bytes` is, or null
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
      if (length == 0 && need <= BLOCK && cap >= BLOCK) {
        block = BLOCKS.get();
        bytes = block.bytes;
      } else {
        bytes = Arrays.copyOf(bytes, Math.min(cap, Math.max(need, Math.max(BLOCK, length * 2))));
        giveBack(); // the lines moved to an array of their own
      }
    }
    System.arraycopy(a, from, bytes, length, len);
    bytes[length + len] = LF;
    length = need;
    return true;
  }

  /**
   * Hands every held line to {@code each}, in order, and forgets them (the array is let go before,
   * so what {@code each} does cannot disturb the walk; a pooled one goes back after it: {@code each}
   * must not keep the array).
   */
  void drainTo(LineReader each) {
    byte[] b = bytes;
    int n = length;
    Block used = block;
    block = null;
    bytes = EMPTY;
    length = 0;
    try {
      for (int from = 0; from < n; ) {
        int to = from;
        while (b[to] != LF) {
          to++;
        }
        each.read(b, from, to);
        from = to + 1;
      }
    } finally {
      if (used != null) {
        used.recycle();
      }
    }
  }

  /** Forgets what is held; a pooled array goes back. Idempotent. */
  void release() {
    giveBack();
    bytes = EMPTY;
    length = 0;
  }

  private void giveBack() {
    Block b = block;
    if (b != null) {
      block = null;
      b.recycle();
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
