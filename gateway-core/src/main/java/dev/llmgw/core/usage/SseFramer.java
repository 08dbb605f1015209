package dev.llmgw.core.usage;

import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cuts a {@code text/event-stream} body into lines ({@code \n} or {@code \r\n}) and events (ended by a
 * blank line) across arbitrary chunk boundaries, reading the chunks without changing them. Each line
 * is found with Netty's SWAR {@code indexOf} and copied once into a reused array, where a line cut by
 * a chunk boundary waits for its end; each complete, non-blank line goes to a {@link Lines}, without
 * its line end. A line longer than {@code maxLineBytes} is not copied past that and is reported as
 * too long instead. A failure while reading (a bug) is logged once and ends all reading: the stream
 * must still be relayed, unread ({@link #failed()}).
 *
 * <p>Not thread-safe.
 */
final class SseFramer {
  private static final Logger LOG = LoggerFactory.getLogger(SseFramer.class);
  private static final byte LF = '\n';
  private static final byte CR = '\r';
  /** Line arrays above this are dropped once their line is done, so one huge line is not pinned. */
  static final int LINE_KEEP = 16 * 1024;
  private static final byte[] EMPTY = new byte[0];

  /** What reads the lines of the stream. */
  interface Lines {
    /** A complete, non-blank line {@code a[from, to)}, without its line end. */
    void line(byte[] a, int from, int to);

    /** A complete line that was longer than the cap: not read. */
    void lineTooLong();

    /**
     * The event ended. Called through {@link SseFramer#endEvent()} by whoever drives the framer, after
     * each event end {@link SseFramer#nextEventEnd} returned; true to drop the event.
     */
    boolean endEvent();
  }

  private final Lines lines;
  private final int maxLineBytes;
  private byte[] line = EMPTY;
  private int lineLen; // bytes of the current line in `line`
  private long lineTotal; // bytes of the current line so far, those past the cap included
  private boolean failed;

  SseFramer(Lines lines, int maxLineBytes) {
    if (maxLineBytes < 1) {
      throw new IllegalArgumentException("maxLineBytes must be positive: " + maxLineBytes);
    }
    this.lines = lines;
    this.maxLineBytes = maxLineBytes;
  }

  /**
   * Reads {@code chunk} from {@code from} to its writer index, line by line, up to the end of the next
   * event: returns the index just past the blank line that ends it (call {@link #endEvent()} then), or
   * -1 when the chunk ended first (a line cut at its end is completed by the next chunk) or reading
   * failed. Never throws.
   */
  int nextEventEnd(ByteBuf chunk, int from) {
    if (failed) {
      return -1;
    }
    try {
      int end = chunk.writerIndex();
      while (from < end) {
        int lf = chunk.indexOf(from, end, LF);
        append(chunk, from, lf < 0 ? end : lf);
        if (lf < 0) {
          return -1;
        }
        from = lf + 1;
        if (completeLine()) {
          return from;
        }
      }
      return -1;
    } catch (RuntimeException e) {
      fail(e);
      return -1;
    }
  }

  /** Ends the event whose end {@link #nextEventEnd} just returned: {@link Lines#endEvent()}. */
  boolean endEvent() {
    return lines.endEvent();
  }

  /** The stream ended: reads its last line if it has no line end. Never throws. */
  void finish() {
    if (failed || lineTotal == 0) {
      return;
    }
    try {
      completeLine();
    } catch (RuntimeException e) {
      fail(e);
    }
  }

  /** Whether reading failed: nothing more is read, everything must be relayed as it is. */
  boolean failed() {
    return failed;
  }

  /** Forgets the line being read and its array. */
  void release() {
    line = EMPTY;
    lineLen = 0;
    lineTotal = 0;
  }

  /** Appends {@code buf[from, to)} to the line being read, keeping at most maxLineBytes of it. */
  private void append(ByteBuf buf, int from, int to) {
    int len = to - from;
    lineTotal += len;
    int n = Math.min(len, maxLineBytes - lineLen);
    if (n <= 0) {
      return;
    }
    int need = lineLen + n;
    if (line.length < need) {
      byte[] bigger = new byte[Math.min(Math.max(Math.max(512, line.length * 2), need), maxLineBytes)];
      System.arraycopy(line, 0, bigger, 0, lineLen);
      line = bigger;
    }
    buf.getBytes(from, line, lineLen, n);
    lineLen = need;
  }

  /** Hands the complete line on, then clears it; returns whether it was blank. */
  private boolean completeLine() {
    boolean tooLong = lineTotal > lineLen;
    int end = lineLen;
    lineLen = 0;
    lineTotal = 0;
    if (tooLong) {
      lines.lineTooLong();
    } else {
      if (end > 0 && line[end - 1] == CR) {
        end--;
      }
      if (end == 0) {
        return true;
      }
      lines.line(line, 0, end);
    }
    if (line.length > LINE_KEEP) {
      line = EMPTY; // one huge line must not stay pinned for the rest of the stream
    }
    return false;
  }

  private void fail(RuntimeException e) {
    failed = true;
    LOG.warn("event stream: usage scanning failed; the rest of the stream is forwarded as is, unscanned", e);
  }
}
