package dev.llmgw.core.usage;

import static dev.llmgw.core.usage.DataLineCheck.HAS_TEXT;
import static dev.llmgw.core.usage.DataLineCheck.HAS_USAGE;

/**
 * Meters an OpenAI event stream from its lines ({@link SseFramer.Lines}): notes {@code data: [DONE]},
 * reads the top-level {@code usage} of each data line's JSON object — on the final
 * {@code "choices":[]} event OpenAI sends for {@code stream_options.include_usage}, or llama.cpp-style on
 * the last chunk that still has choices — and keeps the generated text for an estimate. It also says
 * whether an event is the usage-only one: a single data line, an object with a non-null {@code usage}
 * and an empty {@code choices} array.
 *
 * <p>Only lines the {@link DataLineCheck} picks are parsed: a usage line at once (it decides
 * stripping), but a text line is held raw ({@link HeldLines}) and parsed only if the text is asked for
 * ({@link #generatedText()}: the gateway asks every stream for its usage, so in practice only when a
 * stream ended without one), in order with the text of usage lines, which are parsed for their usage
 * alone. Past {@link #HOLD_CAP} held bytes (about 250 events) the held lines are parsed and the rest
 * of the stream as it passes. {@code [DONE]}, {@code "usage":null} chunks and comments are never
 * parsed. Not thread-safe.
 */
final class SseEventReader implements SseFramer.Lines {
  /** Raw text-bearing data lines held per stream before they are parsed after all (~250 events). */
  static final int HOLD_CAP = 64 * 1024;
  private static final byte[] DATA = DataLineCheck.ascii("data:");
  private static final byte[] DONE = DataLineCheck.ascii("[DONE]");

  private final UsageMeter meter = new UsageMeter();
  private final ResponseWalker walker = new ResponseWalker(meter);
  private final DataLineParser parser = new DataLineParser(walker);
  private final HeldLines held = new HeldLines(HOLD_CAP);
  private boolean holding = true; // false once HOLD_CAP was passed: text lines are parsed as they pass
  private boolean sawDone;
  private boolean closed;

  // the event being read
  private int dataLines;
  private boolean usageOnly;
  private boolean tooLong;

  @Override
  public void line(byte[] a, int from, int to) {
    if (!DataLineCheck.startsWith(a, from, to, DATA)) {
      return; // other fields (event:, id:, retry:) and comments only travel with their event
    }
    dataLines++;
    int v = from + DATA.length;
    if (v < to && a[v] == ' ') {
      v++;
    }
    data(a, v, to);
  }

  @Override
  public void lineTooLong() {
    tooLong = true; // whatever it was, the event is not the usage-only one
  }

  @Override
  public boolean endEvent() {
    boolean drop = usageOnly && dataLines == 1 && !tooLong;
    dataLines = 0;
    usageOnly = false;
    tooLong = false;
    return drop;
  }

  /** One data line's value, {@code a[from, to)}. */
  private void data(byte[] a, int from, int to) {
    while (from < to && DataLineCheck.isSpace(a[from])) {
      from++;
    }
    while (to > from && DataLineCheck.isSpace(a[to - 1])) {
      to--;
    }
    int len = to - from;
    if (len == DONE.length && DataLineCheck.startsWith(a, from, to, DONE)) {
      sawDone = true;
      return;
    }
    if (len < 2 || a[from] != '{' || a[to - 1] != '}') {
      return; // only objects are chunks
    }
    int kinds = DataLineCheck.kinds(a, from, to);
    if (holding) {
      if ((kinds & HAS_TEXT) != 0 && !held.add(a, from, to)) {
        parseHeld(); // too much held: parse it, then this line and the rest as they pass (below)
        holding = false;
      } else if ((kinds & HAS_USAGE) != 0) {
        walker.captureText(false); // its text, if any, was held in order with the rest
        parseUsage(a, from, to);
        walker.captureText(true);
        return;
      } else {
        return;
      }
    }
    if (worthParsing(kinds)) {
      parseUsage(a, from, to);
    }
  }

  /** Parses a line and takes its usage, if it has one; a usage with empty choices is the usage-only event. */
  private void parseUsage(byte[] a, int from, int to) {
    if (!parser.parse(a, from, to)) {
      return;
    }
    TokenUsage u = walker.usage();
    if (u != null) {
      meter.report(u);
      if (walker.choicesEmptyArray()) {
        usageOnly = true;
      }
    }
  }

  /**
   * Whether to parse a line as it passes: a usage object, or a non-empty text string while the text cap
   * is not reached (past it, the text only marks the captured text truncated).
   */
  private boolean worthParsing(int kinds) {
    if ((kinds & HAS_TEXT) != 0 && meter.textFull()) {
      meter.markTruncated(); // text we no longer keep
      return (kinds & HAS_USAGE) != 0;
    }
    return kinds != 0;
  }

  /** Parses the held lines, in order, for their text (their usage was read when they passed). */
  private void parseHeld() {
    if (held.length() == 0) {
      return;
    }
    held.drainTo((a, from, to) -> {
      if (worthParsing(DataLineCheck.kinds(a, from, to) & HAS_TEXT)) {
        parser.parse(a, from, to);
      }
    });
    if (closed) {
      parser.close(); // asked for after the stream: no later line will use the parser
    }
  }

  /** The last usage the backend reported, or null. */
  TokenUsage usage() {
    return meter.usage();
  }

  /** The generated text so far (held lines parsed now), capped; "" if none. */
  String generatedText() {
    parseHeld();
    return meter.text();
  }

  /** Whether the generated text went past the cap. */
  boolean generatedTextTruncated() {
    parseHeld();
    return meter.textTruncated();
  }

  boolean sawDone() {
    return sawDone;
  }

  /** The stream is over: the parser goes; usage and text stay readable (until {@link #release}). */
  void close() {
    closed = true;
    parser.close();
  }

  /** Closes, and gives back the held lines' pooled array: the text is no longer asked for. Idempotent. */
  void release() {
    close();
    held.release();
  }
}
