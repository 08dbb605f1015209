package dev.llmgw.core.usage;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import com.fasterxml.jackson.core.async.ByteBufferFeeder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufUtil;
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
 * <p><b>Cheap checks first (SSE).</b> Each line is found with Netty's SWAR {@code indexOf} and
 * copied once into a reused heap array (plain array reads beat per-byte {@code ByteBuf.getByte}, and a
 * line cut by a chunk boundary has to wait somewhere anyway). One pass over each data line, looking at
 * the bytes after each quote, finds whether it has a {@code "usage"} key whose value starts with
 * <code>{</code> and whether it has a {@code "content"}, {@code "reasoning_content"}, {@code "text"} or
 * {@code "arguments"} key with a non-empty string value. A usage line is parsed at once (the usage
 * decides stripping). A text line is <em>not</em> parsed as it passes: the text is only ever needed to
 * estimate a usage the backend did not send, and the gateway asks every stream for its usage, so the
 * line is kept raw (copied into a per-stream array) and parsed only if {@link #generatedText()} is
 * called — in order with the text of any usage line, which is parsed for its usage alone. Past
 * {@link #DEFER_CAP} held bytes (about 250 events) the held lines are parsed then and the rest of the
 * stream as it passes, as before, so a long stream holds no more than that. {@code data: [DONE]},
 * OpenAI's {@code "usage":null} role and finish chunks and keep-alive comments are never parsed. Parsing uses one Jackson non-blocking parser fed straight from
 * that array and reused across events (one root value per event); a malformed event only costs a new
 * parser.
 *
 * <p><b>Captured text</b>: {@code content}, {@code reasoning_content}, {@code text} and tool call
 * {@code arguments} strings of every choice, concatenated, capped at 65,536
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
 *   <li>JSON: the {@link ByteBuffer} view(s) of the chunk handed to the parser ({@code nioBuffer()}: one
 *       or two small objects; one per component for a composite) — the bytes are not copied. The
 *       parser reuses its token and text buffers, field names are canonicalized (no {@code String}
 *       per key), and captured text goes into one {@code StringBuilder} bounded by the cap.</li>
 *   <li>SSE, not stripping: none in the steady state — the chunk is forwarded as is, its lines are
 *       copied into the reused line array (grown on demand up to {@code maxEventBytes}; dropped after
 *       a line above 16 KiB so one huge line is not pinned), and the reused parser is fed from that
 *       array. A parsed usage object yields one {@link TokenUsage}; held text lines grow one array
 *       (doubling, up to {@link #DEFER_CAP}) and captured text one {@code StringBuilder} up to the
 *       cap. ({@code UsageTapAllocationTest} measures it: under one
 *       byte per chunk when only checked, about 40 bytes — the {@code TokenUsage} — per parsed
 *       usage event.)</li>
 *   <li>SSE, stripping: as above when a chunk holds only whole events and no usage-only event (it is
 *       forwarded itself). Otherwise one retained slice per forwarded run of events (a pooled,
 *       recycled derived buffer). An incomplete trailing event is held by keeping the chunk itself
 *       (reader index moved past what was forwarded); only an event spanning three or more chunks is
 *       copied, into one pooled buffer from the chunk's allocator that grows as it is appended to.</li>
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
  /** Line arrays above this are dropped once their line is done, so one huge line is not pinned. */
  private static final int LINE_KEEP = 16 * 1024;
  private static final byte[] EMPTY = new byte[0];
  /** Raw text-bearing data lines held per stream before they are parsed after all (~250 events). */
  static final int DEFER_CAP = 64 * 1024;
  private static final int HAS_USAGE = 1;
  private static final int HAS_TEXT = 2;

  private enum Mode { PASS, JSON, SSE }

  private final Mode mode;
  private final int maxEventBytes;
  private final ResponseWalker walker;

  private JsonParser parser; // JSON: fed chunk views; SSE: fed lines, one root value per event
  private ByteBufferFeeder bufferFeeder;
  private ByteArrayFeeder arrayFeeder;
  private boolean jsonDone;

  // SSE: the line being read (copied, capped at maxEventBytes); lineTotal counts past the cap
  private byte[] line = EMPTY;
  private int lineLen;
  private long lineTotal;

  // SSE: the event being read
  private int eventDataLines;
  private boolean eventUsageOnly;
  private boolean eventKeep;

  // SSE strip mode
  private boolean stripping;
  private ByteBuf held; // the incomplete trailing event's bytes so far
  private boolean heldIsCopy;
  private boolean broken;
  private ByteBuf cur; // the chunk being framed, during onChunk
  private List<ByteBuf> curOut;
  private int runStart; // first byte of cur not yet forwarded nor dropped
  private int eventStart; // first byte of cur that belongs to the event being read

  // SSE: data lines with generated text, kept raw (LF-separated) instead of parsed as they pass; parsed
  // only if the text is asked for (generatedText(): in practice when the stream ended without usage).
  // Past DEFER_CAP bytes they are parsed at once and the rest of the stream is parsed as it passes.
  private byte[] deferred;
  private int deferredLen;
  private boolean deferring = true;

  private TokenUsage usage;
  private boolean sawDone;
  /** JSON mode: the body is not one well-formed JSON object (a backend failure before the first byte). */
  private boolean malformed;
  /** JSON mode: the body's root value ended. */
  private boolean jsonComplete;
  /** JSON mode: bytes fed to the parser so far, and the offset just past the root value once it ended. */
  private long fed;
  private long rootEnd = -1;
  private boolean rootStarted;
  private static final io.netty.util.ByteProcessor NOT_WHITESPACE =
      b -> b == ' ' || b == '\n' || b == '\r' || b == '\t';
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
   *                            forwarded as is), and the longest line read for usage and text (a longer
   *                            line is forwarded but not read, and its event is never stripped)
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
        } else if (jsonComplete && !malformed && chunk.forEachByte(NOT_WHITESPACE) >= 0) {
          malformed = true; // something after the body's object
        }
        out.add(chunk);
      }
      case SSE -> {
        if (stripping) {
          stripChunk(chunk, out);
        } else {
          if (!broken) {
            try {
              scanLines(chunk);
            } catch (RuntimeException e) {
              broke(e);
            }
          }
          out.add(chunk);
        }
      }
    }
  }

  /**
   * The body's last chunk: {@link #onChunk} then {@link #onEnd}, except for a JSON body that arrives
   * whole in this one chunk (the common case for a non-streamed completion), which is read with a
   * blocking parser that skips everything but the top-level {@code usage} object. The generated text
   * is then captured only when the body carries no usage (it is only ever needed to estimate a
   * missing usage), in a second, full pass. Takes ownership of {@code chunk} as {@code onChunk} does.
   */
  public void onLastChunk(ByteBuf chunk, List<ByteBuf> out) {
    if (mode == Mode.JSON && !released && !ended && !jsonDone && parser == null && chunk.isReadable()
        && readWholeJson(chunk)) {
      ended = true;
      jsonDone = true;
      out.add(chunk);
      return;
    }
    onChunk(chunk, out);
    onEnd(out);
  }

  /**
   * Reads the top-level {@code usage} of a whole JSON body (borrowing {@code body}); true when it was
   * found and read, false to fall back to the token-by-token walk (no usage, not an object, malformed
   * before the usage).
   */
  private boolean readWholeJson(ByteBuf body) {
    walker.resetStructure();
    walker.captureText(false);
    boolean found = false;
    try (JsonParser p = body.hasArray()
        ? JSON.createParser(body.array(), body.arrayOffset() + body.readerIndex(), body.readableBytes())
        : JSON.createParser((java.io.InputStream) new ByteBufInputStream(body.duplicate()))) {
      JsonToken t = p.nextToken();
      if (t != JsonToken.START_OBJECT) {
        malformed = true; // an array, a scalar, or not JSON: not an OpenAI response
        return false; // the token walk still captures what text there is
      }
      walker.token(t, p); // the root; then only the usage field goes through the walker (its rules)
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        boolean isUsage = !found && "usage".equals(p.currentName());
        JsonToken v = p.nextToken();
        if (isUsage && v == JsonToken.START_OBJECT) {
          walker.token(t, p);
          for (int depth = 0; v != null; v = p.nextToken()) {
            walker.token(v, p);
            depth += v.isStructStart() ? 1 : v.isStructEnd() ? -1 : 0;
            if (depth == 0) {
              break;
            }
          }
          TokenUsage u = walker.usage();
          if (u != null) {
            usage = u;
            found = true;
          }
          continue;
        }
        p.skipChildren(); // the rest is only checked to be well-formed, never materialised
      }
      if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
        malformed = true; // cut short, or something after the object
        return found;
      }
      jsonComplete = true;
      return found; // without a usage: the token walk captures the text for an estimate
    } catch (IOException | RuntimeException e) {
      malformed = true;
      return found; // without a usage: the token walk captures the text before the fault
    } finally {
      walker.captureText(true);
    }
  }

  /**
   * JSON mode: whether the body is not one well-formed JSON object — known once the body ended, or
   * earlier when what arrived so far cannot start one. A backend failure ({@code malformed_response}).
   */
  public boolean malformed() {
    return malformed;
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
    if (mode == Mode.JSON && !jsonDone && bufferFeeder != null) {
      try {
        bufferFeeder.endOfInput();
        drain();
        captureJsonUsage();
      } catch (IOException | RuntimeException e) {
        captureJsonUsage();
        malformed = true;
      }
      jsonDone = true;
    }
    if (mode == Mode.JSON && !jsonComplete) {
      malformed = true; // empty, cut short, or not JSON at all
    }
    if (mode == Mode.SSE) {
      if (lineTotal > 0 && !broken) {
        try {
          line(); // the last line, without a line end
        } catch (RuntimeException e) {
          broke(e);
        }
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
    line = EMPTY;
    lineLen = 0;
    lineTotal = 0;
  }

  /** The usage the backend reported (not estimated), or null if none has passed. */
  public TokenUsage usage() {
    return usage;
  }

  /**
   * The generated text seen so far, capped at 65,536 chars (64 Ki); "" if none. For a JSON body read
   * whole ({@link #onLastChunk}) with a usage, the text is not captured ("").
   */
  public String generatedText() {
    if (walker == null) {
      return "";
    }
    replayDeferred();
    return walker.text();
  }

  /** Whether the generated text went past the cap ({@link #generatedText()} is then a prefix). */
  public boolean generatedTextTruncated() {
    if (walker == null) {
      return false;
    }
    replayDeferred();
    return walker.textTruncated();
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
      long before = fed;
      fed += chunk.readableBytes();
      feed(chunk, chunk.readerIndex(), chunk.readableBytes());
      if (jsonComplete && rootEnd >= before && rootEnd < fed) {
        int from = chunk.readerIndex() + (int) (rootEnd - before);
        if (chunk.forEachByte(from, chunk.writerIndex() - from, NOT_WHITESPACE) >= 0) {
          malformed = true; // something after the body's object
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("response body is not well-formed JSON; usage not read further: {}", e.toString());
      jsonDone = true;
      malformed = true;
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
    bufferFeeder = (ByteBufferFeeder) parser.getNonBlockingInputFeeder();
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
    bufferFeeder.feedInput(b);
    drain();
  }

  private void drain() throws IOException {
    JsonToken t;
    while ((t = parser.nextToken()) != JsonToken.NOT_AVAILABLE && t != null) {
      if (mode == Mode.JSON && !rootStarted) {
        rootStarted = true;
        if (t != JsonToken.START_OBJECT) {
          malformed = true; // the body's value is not an object
        }
      }
      walker.token(t, parser);
      if (mode == Mode.JSON && walker.rootsEnded() > 0) {
        jsonDone = true; // the body's value is complete: nothing after it is read, only checked
        jsonComplete = true;
        rootEnd = parser.currentLocation().getByteOffset();
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
      bufferFeeder = null;
      arrayFeeder = null;
    }
  }

  // ---------------------------------------------------------------- SSE framing

  /**
   * Splits {@code buf}'s readable bytes into lines (LF found with Netty's SWAR {@code indexOf}), copying
   * each into {@link #line} (where a line cut by the chunk boundary waits for its end), and reads each
   * complete line. Calls {@link #eventEnd} after each blank line, with the index just past it.
   */
  private void scanLines(ByteBuf buf) {
    int pos = buf.readerIndex();
    int end = buf.writerIndex();
    while (pos < end) {
      int lf = buf.indexOf(pos, end, LF);
      appendLine(buf, pos, lf < 0 ? end : lf);
      if (lf < 0) {
        return;
      }
      boolean blank = line();
      pos = lf + 1;
      if (blank) {
        eventEnd(pos);
      }
    }
  }

  /** Reads the complete line held in {@link #line}, then clears it; returns whether it was blank. */
  private boolean line() {
    boolean overflow = lineTotal > lineLen;
    int end = lineLen;
    lineLen = 0;
    lineTotal = 0;
    if (overflow) {
      eventKeep = true; // too long to read: whatever it is, the event is not stripped
    } else {
      if (end > 0 && line[end - 1] == CR) {
        end--;
      }
      if (end == 0) {
        return true;
      }
      if (startsWith(line, 0, end, DATA)) {
        eventDataLines++;
        int v = DATA.length;
        if (v < end && line[v] == ' ') {
          v++;
        }
        data(v, end);
      }
      // other fields (event:, id:, retry:) and comments only travel with their event
    }
    if (line.length > LINE_KEEP) {
      line = EMPTY; // one huge line must not stay pinned for the rest of the stream
    }
    return false;
  }

  /** One data line's value, {@code line[from, to)}. */
  private void data(int from, int to) {
    byte[] a = line;
    while (from < to && isSpace(a[from])) {
      from++;
    }
    while (to > from && isSpace(a[to - 1])) {
      to--;
    }
    int len = to - from;
    if (len == DONE.length && startsWith(a, from, to, DONE)) {
      sawDone = true;
      return;
    }
    if (len < 2 || a[from] != '{' || a[to - 1] != '}') {
      return; // only objects are chunks
    }
    int kinds = kinds(a, from, to);
    if (deferring) {
      if ((kinds & HAS_TEXT) != 0 && !defer(a, from, to)) {
        // too much held: parse what was held, then this stream as it passes (below)
        replayDeferred();
        deferring = false;
      } else if ((kinds & HAS_USAGE) == 0) {
        return;
      } else {
        // the usage now (it decides stripping); its text, if any, was deferred in order with the rest
        walker.captureText(false);
        boolean parsed = parseEvent(a, from, to);
        walker.captureText(true);
        if (parsed) {
          usageParsed();
        }
        return;
      }
    }
    if (!worthParsing(kinds) || !parseEvent(a, from, to)) {
      return;
    }
    usageParsed();
  }

  /** After an event was parsed: its usage, and whether it is a usage-only event. */
  private void usageParsed() {
    TokenUsage u = walker.usage();
    if (u != null) {
      usage = u;
      if (walker.choicesEmptyArray()) {
        eventUsageOnly = true;
      }
    }
  }

  /**
   * The cheap check, one pass over the line looking at the bytes after each quote: {@link #HAS_USAGE}
   * for a {@code "usage"} key whose value is an object, {@link #HAS_TEXT} for a text key
   * ({@code content}, {@code text}, {@code reasoning_content}, {@code arguments}) whose value is a
   * non-empty string.
   */
  private static int kinds(byte[] a, int from, int to) {
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

  /**
   * Whether to parse a line now that text is captured as it passes: a usage object, or a non-empty text
   * string while the text cap is not reached (past it, the text only marks the captured text truncated).
   */
  private boolean worthParsing(int kinds) {
    if ((kinds & HAS_TEXT) != 0 && walker.textFull()) {
      walker.markTruncated(); // text we no longer keep
      return (kinds & HAS_USAGE) != 0;
    }
    return kinds != 0;
  }

  /** Holds a text-bearing data line for later; false (nothing held) when it would pass the cap. */
  private boolean defer(byte[] a, int from, int to) {
    int len = to - from;
    int need = deferredLen + len + 1;
    if (need > DEFER_CAP) {
      return false;
    }
    if (deferred == null || deferred.length < need) {
      deferred = java.util.Arrays.copyOf(deferred == null ? EMPTY : deferred,
          Math.min(DEFER_CAP, Math.max(need, Math.max(8 * 1024, deferredLen * 2))));
    }
    System.arraycopy(a, from, deferred, deferredLen, len);
    deferred[deferredLen + len] = LF;
    deferredLen = need;
    return true;
  }

  /** Parses the held lines, in order, for their text (their usage was read when they passed). */
  private void replayDeferred() {
    byte[] d = deferred;
    if (d == null) {
      return;
    }
    int n = deferredLen;
    deferred = null;
    deferredLen = 0;
    int from = 0;
    while (from < n) {
      int to = from;
      while (d[to] != LF) {
        to++;
      }
      if (worthParsing(kinds(d, from, to) & HAS_TEXT)) {
        parseEvent(d, from, to);
      }
      from = to + 1;
    }
    if (released || ended) {
      discardParser(); // asked for after the stream: no later line will use the parser
    }
  }

  /** Parses {@code a[from, to)}; false (and a fresh parser next time) unless it was one JSON value. */
  private boolean parseEvent(byte[] a, int from, int to) {
    int before = walker.rootsEnded();
    boolean clean;
    try {
      if (parser == null) {
        parser = JSON.createNonBlockingByteArrayParser();
        arrayFeeder = (ByteArrayFeeder) parser.getNonBlockingInputFeeder();
        walker.resetStructure();
      }
      arrayFeeder.feedInput(a, from, to);
      drain();
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
    } catch (RuntimeException e) {
      broke(e);
    } finally {
      cur = null;
      curOut = null;
    }
    // if something is still held, no event ended in this chunk: runStart == eventStart == start
    int tail = end - eventStart;
    long heldBytes = held == null ? 0 : held.readableBytes();
    if (broken || (tail > 0 && heldBytes + tail > maxEventBytes)) {
      if (!broken) {
        giveUp(heldBytes + tail);
      }
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
        ByteBuf copy = chunk.alloc().buffer(have + len); // grows (doubling) as later chunks are appended
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

  /** A bug in scanning must not break the relay: forward the rest of the stream as is, unscanned. */
  private void broke(RuntimeException e) {
    broken = true;
    stripping = false;
    LOG.warn("event stream: usage scanning failed; the rest of the stream is forwarded as is, unscanned", e);
  }

  /**
   * An event grew past the cap without ending: what is held of it is forwarded now and the rest as it
   * comes (an event that large is never the usage-only one). Stripping goes on with the next event, so
   * the usage chunk the client did not ask for never leaks after a large event. Logged once a stream.
   */
  private void giveUp(long bytes) {
    if (!gaveUp) {
      gaveUp = true;
      LOG.debug("event stream: an event passed {} bytes without ending ({} so far); forwarded as it comes",
          maxEventBytes, bytes);
    }
  }

  private boolean gaveUp;

  // ---------------------------------------------------------------- line buffer

  /** Appends {@code buf[from, to)} to the line being read, keeping at most maxEventBytes of it. */
  private void appendLine(ByteBuf buf, int from, int to) {
    int len = to - from;
    lineTotal += len;
    int n = Math.min(len, maxEventBytes - lineLen);
    if (n <= 0) {
      return;
    }
    int need = lineLen + n;
    if (line.length < need) {
      byte[] bigger = new byte[Math.min(Math.max(Math.max(512, line.length * 2), need), maxEventBytes)];
      System.arraycopy(line, 0, bigger, 0, lineLen);
      line = bigger;
    }
    buf.getBytes(from, line, lineLen, n);
    lineLen = need;
  }

  // ---------------------------------------------------------------- bytes

  private static boolean startsWith(byte[] a, int from, int to, byte[] prefix) {
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

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\t' || b == CR || b == LF;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
