package dev.llmgw.core.usage;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteBufferFeeder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches one backend attempt's response body as it is relayed, chunk by chunk, without aggregating
 * it, and reports the token usage the backend sent ({@link #usage()}) plus, for estimation when it
 * sent none, the generated text ({@link #generatedText()}).
 *
 * <ul>
 *   <li>{@link #forEventStream} ({@code text/event-stream}, OpenAI SSE): frames lines ({@code \n} or
 *       {@code \r\n}) and events (a blank line) across arbitrary chunk boundaries. The usage comes in
 *       an event's top-level {@code usage} object — the final {@code "choices":[]} event OpenAI sends
 *       for {@code stream_options.include_usage}, or llama.cpp-style on the last chunk that still has
 *       choices; the last one seen wins (vLLM's continuous usage is cumulative). With
 *       {@code stripUsageOnlyEvent}, an event whose single data line is an object with a non-null
 *       {@code usage} and an empty {@code choices} array is removed from what is forwarded; everything
 *       else is forwarded byte for byte, in order.</li>
 *   <li>{@link #forJson} ({@code application/json}): feeds every chunk to one Jackson non-blocking
 *       parser and keeps only the top-level {@code usage} object and
 *       {@code choices[*].message.content} / {@code choices[*].text}; stops parsing when the root value
 *       ends. Malformed JSON ends the parsing silently (usage stays null unless the usage object had
 *       already been read).</li>
 *   <li>{@link #passThrough}: forwards chunks untouched, scans nothing.</li>
 * </ul>
 *
 * <p><b>Cheap checks first (SSE).</b> An event's JSON is parsed only when its data line is an object
 * with a {@code "usage"} key followed by {@code {}, or — while the text cap is not reached — a
 * {@code "content"}, {@code "reasoning_content"}, {@code "text"} or {@code "arguments"} key followed
 * by a non-empty string. The check is one pass over the line for {@code '"'} (Netty's SWAR
 * {@code indexOf}) with a few byte compares at each quote; a {@code data: [DONE]} line or an
 * OpenAI {@code "usage":null} role/finish chunk is never parsed. Events are parsed by one
 * non-blocking parser reused across events (one root value per event), replaced after a malformed
 * event.
 *
 * <p><b>Captured text</b>: {@code content}, {@code reasoning_content}, {@code text} and tool call
 * {@code arguments} strings of every choice, concatenated, capped at {@value ResponseWalker#TEXT_CAP}
 * chars; past the cap, content events are no longer parsed (usage events still are).
 *
 * <p><b>Ownership.</b> {@link #onChunk} takes ownership of its chunk; every buffer appended to
 * {@code out} (by {@code onChunk} or {@link #onEnd}) is owned by the caller, who must write or
 * release it. Buffers held between calls (strip mode only: the incomplete trailing event) are owned by
 * the tap until forwarded by a later call, or freed by {@link #release()}, which the caller must call
 * on every abnormal end (client gone, backend failure); after {@code onEnd} there is nothing left to
 * free, and a {@code release()} is a harmless no-op. After {@code release()} or {@code onEnd},
 * {@code onChunk} releases its input and forwards nothing. {@link #usage()}, {@link #generatedText()}
 * and {@link #sawDone()} stay readable after either (a cancelled stream is charged for what passed).
 *
 * <p><b>Allocation per chunk</b> (all on the caller's event loop):
 * <ul>
 *   <li>pass-through: none.</li>
 *   <li>JSON: one {@link ByteBuffer} view of the chunk ({@code nioBuffer}; one per component for a
 *       composite). The parser's token and text buffers are reused; field names are canonicalized (no
 *       {@code String} per key); captured text is appended to one bounded {@code StringBuilder}.</li>
 *   <li>SSE, not stripping: nothing for lines that fail the cheap check; a {@code ByteBuffer} view per
 *       parsed event; a line cut by a chunk boundary is copied into one reused heap array (grown up to
 *       {@code maxEventBytes}, dropped again after a line above 16 KiB). The chunk itself is forwarded
 *       as is.</li>
 *   <li>SSE, stripping: as above, plus — only when a chunk is not forwarded whole — one retained slice
 *       per forwarded run of complete events (pooled derived buffers). An incomplete trailing event is
 *       held by keeping the chunk itself (reader index moved, no copy); only an event spanning three or
 *       more chunks is copied, into one pooled buffer from the chunk's allocator.</li>
 * </ul>
 *
 * <p>One tap per attempt. Not thread-safe: confine it to the event loop that relays the response.
 */
public final class UsageTap {
  private static final Logger LOG = LoggerFactory.getLogger(UsageTap.class);
  private static final JsonFactory JSON = JsonFactory.builder().build();

  private static final byte LF = '\n';
  private static final byte CR = '\r';
  private static final byte QUOTE = '"';
  private static final byte[] DATA = ascii("data:");
  private static final byte[] DONE = ascii("[DONE]");
  // key names after the opening quote, closing quote included
  private static final byte[] USAGE_KEY = ascii("usage\"");
  private static final byte[][] TEXT_KEYS = {
      ascii("content\""), ascii("text\""), ascii("reasoning_content\""), ascii("arguments\"")};
  /** Carry arrays above this are dropped once their line is done, so one huge line is not pinned. */
  private static final int CARRY_KEEP = 16 * 1024;

  private enum Mode { PASS, JSON, SSE }

  private final Mode mode;
  private final int maxEventBytes;
  private final ResponseWalker walker;

  private JsonParser parser;
  private ByteBufferFeeder feeder;
  private boolean jsonDone;

  // SSE: the partial line cut by the last chunk boundary (copied, capped at maxEventBytes)
  private byte[] carry;
  private ByteBuf carryView; // unpooled heap view of carry: nothing to release
  private int carryLen;
  private long carryTotal;

  // SSE: the event being read
  private int eventDataLines;
  private boolean eventUsageOnly;
  private boolean eventKeep;

  // SSE strip mode
  private boolean stripping;
  private ByteBuf held; // the incomplete trailing event's bytes so far
  private boolean heldIsCopy;
  private ByteBuf cur; // the chunk being framed, during onChunk
  private List<ByteBuf> curOut;
  private int runStart; // first byte of cur not yet forwarded nor dropped
  private int eventStart; // first byte of cur that belongs to the event being read

  private TokenUsage usage;
  private boolean sawDone;
  private boolean released;
  private boolean ended;

  private UsageTap(Mode mode, boolean strip, int maxEventBytes) {
    this.mode = mode;
    this.stripping = strip;
    this.maxEventBytes = maxEventBytes;
    this.walker = mode == Mode.PASS ? null : new ResponseWalker();
  }

  /**
   * For a {@code text/event-stream} response.
   *
   * @param stripUsageOnlyEvent remove the usage-only event (the client did not ask for usage)
   * @param maxEventBytes       the most bytes of one incomplete event held back while stripping (above
   *                            it, stripping stops for the rest of the stream and everything is
   *                            forwarded as is), and of one line kept for scanning across chunks
   */
  public static UsageTap forEventStream(boolean stripUsageOnlyEvent, int maxEventBytes) {
    if (maxEventBytes < 1) {
      throw new IllegalArgumentException("maxEventBytes must be positive: " + maxEventBytes);
    }
    return new UsageTap(Mode.SSE, stripUsageOnlyEvent, maxEventBytes);
  }

  /** For an {@code application/json} response. */
  public static UsageTap forJson() {
    return new UsageTap(Mode.JSON, false, 0);
  }

  /** For any other response: forwards every chunk as is and reports nothing. */
  public static UsageTap passThrough() {
    return new UsageTap(Mode.PASS, false, 0);
  }

  /**
   * Takes ownership of {@code chunk} and appends to {@code out}, in order, the buffers to forward to
   * the client (the caller owns them). Unless stripping, that is {@code chunk} itself, unchanged.
   */
  public void onChunk(ByteBuf chunk, List<ByteBuf> out) {
    if (released || ended) {
      chunk.release();
      return;
    }
    switch (mode) {
      case PASS -> out.add(chunk);
      case JSON -> {
        if (!jsonDone && chunk.isReadable()) {
          feedJson(chunk);
        }
        out.add(chunk);
      }
      case SSE -> {
        if (stripping) {
          stripChunk(chunk, out);
        } else {
          scanLines(chunk);
          out.add(chunk);
        }
      }
    }
  }

  /**
   * The response ended normally: appends to {@code out} anything still held (an incomplete final event
   * is forwarded as is) and finishes scanning (a final line without a line end is still read).
   */
  public void onEnd(List<ByteBuf> out) {
    if (released || ended) {
      return;
    }
    ended = true;
    if (mode == Mode.JSON && !jsonDone && feeder != null) {
      try {
        feeder.endOfInput();
        drain();
        captureJsonUsage();
      } catch (IOException | RuntimeException e) {
        captureJsonUsage();
      }
      jsonDone = true;
    } else if (mode == Mode.SSE) {
      if (carryTotal > 0) {
        line(carryView, 0, carryLen, carryTotal > carryLen);
        clearCarry();
      }
      if (held != null) {
        out.add(held);
        held = null;
      }
    }
    discardParser();
  }

  /** Frees anything held; call on every abnormal end. Idempotent; usage and text stay readable. */
  public void release() {
    if (released) {
      return;
    }
    released = true;
    if (held != null) {
      ByteBuf h = held;
      held = null;
      h.release();
    }
    discardParser();
    carry = null;
    carryView = null;
  }

  /** The usage the backend reported (not estimated), or null if none has passed. */
  public TokenUsage usage() {
    return usage;
  }

  /** The generated text seen so far, capped at {@value ResponseWalker#TEXT_CAP} chars; "" if none. */
  public String generatedText() {
    return walker == null ? "" : walker.text();
  }

  /** Whether the generated text went past the cap ({@link #generatedText()} is then a prefix). */
  public boolean generatedTextTruncated() {
    return walker != null && walker.textTruncated();
  }

  /** SSE: whether a {@code data: [DONE]} line has passed. */
  public boolean sawDone() {
    return sawDone;
  }

  // ---------------------------------------------------------------- JSON

  private void feedJson(ByteBuf chunk) {
    try {
      if (parser == null) {
        newParser();
      }
      feed(chunk, chunk.readerIndex(), chunk.readableBytes());
    } catch (IOException | RuntimeException e) {
      LOG.debug("response body is not well-formed JSON; usage not read further: {}", e.toString());
      jsonDone = true;
    }
    captureJsonUsage();
    if (jsonDone) {
      discardParser();
    }
  }

  private void captureJsonUsage() {
    if (walker.usage() != null) {
      usage = walker.usage();
    }
  }

  // ---------------------------------------------------------------- parsing (both modes)

  private void newParser() throws IOException {
    parser = JSON.createNonBlockingByteBufferParser();
    feeder = (ByteBufferFeeder) parser.getNonBlockingInputFeeder();
    walker.resetStructure();
  }

  /** Feeds {@code src[from, from+len)} and hands every complete token to the walker. */
  private void feed(ByteBuf src, int from, int len) throws IOException {
    int n = src.nioBufferCount();
    if (n == 1) {
      feedOne(src.nioBuffer(from, len));
    } else if (n > 1) {
      for (ByteBuffer b : src.nioBuffers(from, len)) {
        feedOne(b);
        if (jsonDone) {
          return;
        }
      }
    } else {
      feedOne(ByteBuffer.wrap(ByteBufUtil.getBytes(src, from, len)));
    }
  }

  private void feedOne(ByteBuffer b) throws IOException {
    if (!b.hasRemaining()) {
      return;
    }
    feeder.feedInput(b);
    drain();
  }

  private void drain() throws IOException {
    JsonToken t;
    while ((t = parser.nextToken()) != JsonToken.NOT_AVAILABLE && t != null) {
      walker.token(t, parser);
      if (mode == Mode.JSON && walker.rootsEnded() > 0) {
        jsonDone = true; // the body's value is complete: nothing after it matters
        return;
      }
    }
  }

  private void discardParser() {
    if (parser != null) {
      try {
        parser.close();
      } catch (IOException | RuntimeException ignored) {
        // nothing to do: the parser only returns its buffers
      }
      parser = null;
      feeder = null;
    }
  }

  // ---------------------------------------------------------------- SSE framing

  /**
   * Splits {@code buf}'s readable bytes into lines, completing the carried partial line first, and
   * keeps the new partial line. Calls {@link #eventEnd} after each blank line, with the index just
   * past it.
   */
  private void scanLines(ByteBuf buf) {
    int pos = buf.readerIndex();
    int end = buf.writerIndex();
    while (pos < end) {
      int lf = buf.indexOf(pos, end, LF);
      if (lf < 0) {
        appendCarry(buf, pos, end);
        return;
      }
      boolean blank;
      if (carryTotal > 0) {
        appendCarry(buf, pos, lf);
        blank = line(carryView, 0, carryLen, carryTotal > carryLen);
        clearCarry();
      } else {
        blank = line(buf, pos, lf, false);
      }
      pos = lf + 1;
      if (blank) {
        eventEnd(pos);
      }
    }
  }

  /** One line without its LF; returns whether it is blank (ends the event). */
  private boolean line(ByteBuf src, int from, int to, boolean overflow) {
    if (overflow) {
      eventKeep = true; // too long to read: whatever it is, the event is not stripped
      return false;
    }
    int end = to;
    if (end > from && src.getByte(end - 1) == CR) {
      end--;
    }
    if (end == from) {
      return true;
    }
    if (startsWith(src, from, end, DATA)) {
      eventDataLines++;
      int v = from + DATA.length;
      if (v < end && src.getByte(v) == ' ') {
        v++;
      }
      data(src, v, end);
    }
    return false; // other fields (event:, id:, retry:) and comments only travel with their event
  }

  /** One data line's value. */
  private void data(ByteBuf src, int from, int to) {
    while (from < to && isSpace(src.getByte(from))) {
      from++;
    }
    while (to > from && isSpace(src.getByte(to - 1))) {
      to--;
    }
    int len = to - from;
    if (len == DONE.length && startsWith(src, from, to, DONE)) {
      sawDone = true;
      return;
    }
    if (len < 2 || src.getByte(from) != '{' || src.getByte(to - 1) != '}') {
      return; // only objects are chunks
    }
    if (!worthParsing(src, from, to)) {
      return;
    }
    if (parseEvent(src, from, len)) {
      TokenUsage u = walker.usage();
      if (u != null) {
        usage = u;
        if (walker.choicesEmptyArray()) {
          eventUsageOnly = true;
        }
      }
    }
  }

  /** The cheap check: a usage object, or (while text is wanted) a non-empty text string. */
  private boolean worthParsing(ByteBuf src, int from, int to) {
    boolean wantText = !walker.textFull();
    int i = from;
    while (i < to) {
      int q = src.indexOf(i, to, QUOTE);
      if (q < 0) {
        return false;
      }
      int k = q + 1;
      int after = keyEnd(src, k, to, USAGE_KEY);
      if (after > 0) {
        int v = valueStart(src, after, to);
        if (v >= 0 && src.getByte(v) == '{') {
          return true;
        }
      } else if (wantText) {
        for (byte[] key : TEXT_KEYS) {
          after = keyEnd(src, k, to, key);
          if (after > 0) {
            int v = valueStart(src, after, to);
            if (v >= 0 && v + 1 < to && src.getByte(v) == QUOTE && src.getByte(v + 1) != QUOTE) {
              return true;
            }
            break;
          }
        }
      }
      i = k;
    }
    return false;
  }

  /** Parses one event's JSON; false (and a fresh parser next time) unless it was exactly one value. */
  private boolean parseEvent(ByteBuf src, int from, int len) {
    int before = walker.rootsEnded();
    boolean clean;
    try {
      if (parser == null) {
        newParser();
      }
      feed(src, from, len);
      clean = walker.rootsEnded() == before + 1 && !walker.inRoot();
    } catch (IOException | RuntimeException e) {
      clean = false;
    }
    if (!clean) {
      LOG.debug("event stream: skipped a data line that is not one JSON value");
      discardParser();
      walker.resetStructure();
    }
    return clean;
  }

  private void eventEnd(int pos) {
    boolean drop = eventUsageOnly && eventDataLines == 1 && !eventKeep;
    eventDataLines = 0;
    eventUsageOnly = false;
    eventKeep = false;
    if (cur == null) {
      return; // not stripping
    }
    if (drop) {
      if (eventStart > runStart) {
        curOut.add(cur.retainedSlice(runStart, eventStart - runStart));
      }
      if (held != null) { // the dropped event's beginning
        ByteBuf h = held;
        held = null;
        h.release();
      }
      runStart = pos;
    } else if (held != null) {
      curOut.add(held); // this event's beginning, before any of cur
      held = null;
    }
    eventStart = pos;
  }

  private void stripChunk(ByteBuf chunk, List<ByteBuf> out) {
    int start = chunk.readerIndex();
    int end = chunk.writerIndex();
    if (start == end) {
      chunk.release();
      return;
    }
    cur = chunk;
    curOut = out;
    runStart = start;
    eventStart = start;
    try {
      scanLines(chunk);
    } finally {
      cur = null;
      curOut = null;
    }
    // if something is still held, no event ended in this chunk: runStart == eventStart == start
    int tail = end - eventStart;
    long heldBytes = held == null ? 0 : held.readableBytes();
    if (tail > 0 && heldBytes + tail > maxEventBytes) {
      giveUp(heldBytes + tail);
      if (held != null) {
        out.add(held);
        held = null;
      }
      forward(chunk, start, runStart, end, out);
      return;
    }
    if (runStart == start && eventStart == end) {
      out.add(chunk); // all of it, nothing dropped, nothing held: zero copy
      return;
    }
    if (eventStart > runStart) {
      out.add(chunk.retainedSlice(runStart, eventStart - runStart));
    }
    if (tail > 0) {
      hold(chunk, eventStart, end);
    } else {
      chunk.release();
    }
  }

  /** Forwards {@code chunk[from, end)} and gives up {@code chunk}. */
  private static void forward(ByteBuf chunk, int start, int from, int end, List<ByteBuf> out) {
    if (from == start) {
      out.add(chunk);
      return;
    }
    if (end > from) {
      out.add(chunk.retainedSlice(from, end - from));
    }
    chunk.release();
  }

  /** Keeps {@code chunk[from, to)} as (the rest of) the incomplete event; takes ownership of chunk. */
  private void hold(ByteBuf chunk, int from, int to) {
    if (held == null) {
      chunk.readerIndex(from);
      held = chunk;
      heldIsCopy = false;
      return;
    }
    int len = to - from;
    try {
      if (!heldIsCopy) {
        int have = held.readableBytes();
        ByteBuf copy = chunk.alloc().buffer(Math.max(have + len, Math.min(2 * (have + len), maxEventBytes)));
        copy.writeBytes(held, held.readerIndex(), have);
        ByteBuf old = held;
        held = copy;
        heldIsCopy = true;
        old.release();
      }
      held.writeBytes(chunk, from, len);
    } finally {
      chunk.release();
    }
  }

  private boolean gaveUp;

  private void giveUp(long bytes) {
    stripping = false;
    if (!gaveUp) {
      gaveUp = true;
      LOG.warn("event stream: an event passed {} bytes without ending ({} so far); the usage-only event is "
          + "no longer stripped from this stream, which is forwarded as is", maxEventBytes, bytes);
    }
  }

  // ---------------------------------------------------------------- carry

  private void appendCarry(ByteBuf buf, int from, int to) {
    int len = to - from;
    carryTotal += len;
    int n = Math.min(len, maxEventBytes - carryLen);
    if (n <= 0) {
      return;
    }
    int need = carryLen + n;
    if (carry == null || carry.length < need) {
      int cap = carry == null ? 256 : carry.length * 2;
      byte[] bigger = new byte[Math.min(Math.max(cap, need), maxEventBytes)];
      if (carryLen > 0) {
        System.arraycopy(carry, 0, bigger, 0, carryLen);
      }
      carry = bigger;
      carryView = Unpooled.wrappedBuffer(carry);
    }
    buf.getBytes(from, carry, carryLen, n);
    carryLen = need;
  }

  private void clearCarry() {
    carryLen = 0;
    carryTotal = 0;
    if (carry != null && carry.length > CARRY_KEEP) {
      carry = null;
      carryView = null;
    }
  }

  // ---------------------------------------------------------------- bytes

  private static boolean startsWith(ByteBuf src, int from, int to, byte[] prefix) {
    if (to - from < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (src.getByte(from + i) != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** The index after {@code key} if it is at {@code k}, else -1. */
  private static int keyEnd(ByteBuf src, int k, int to, byte[] key) {
    return startsWith(src, k, to, key) ? k + key.length : -1;
  }

  /** The index of the value after a key's closing quote ({@code ws : ws}), or -1. */
  private static int valueStart(ByteBuf src, int i, int to) {
    while (i < to && isSpace(src.getByte(i))) {
      i++;
    }
    if (i >= to || src.getByte(i) != ':') {
      return -1;
    }
    i++;
    while (i < to && isSpace(src.getByte(i))) {
      i++;
    }
    return i < to ? i : -1;
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\t' || b == CR || b == LF;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
