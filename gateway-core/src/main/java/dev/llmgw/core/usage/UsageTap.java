package dev.llmgw.core.usage;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * What one backend attempt's response body goes through as it is relayed, chunk by chunk, without
 * being aggregated: it is metered — the token usage the backend reported ({@link #usage()}) and, to
 * estimate one it did not report, the generated text ({@link #generatedText()}) — and, for a stream
 * whose client did not ask for usage, rewritten: the usage-only event the gateway asked the backend for
 * is removed ({@link #forEventStream}). JSON bodies are also checked to be one well-formed object
 * ({@link #malformed()}), streams to end with {@code [DONE]} ({@link #sawDone()}).
 *
 * <p><b>Ownership.</b> {@link #onChunk} and {@link #onLastChunk} take ownership of their chunk; every
 * buffer appended to {@code out} is the caller's, to write or release. Unless an event is removed or
 * held, that is the chunk itself, unchanged (no copy). What a tap holds between calls (only the
 * incomplete trailing event of a stream being stripped) is freed by {@link #release()}, which the
 * caller must call on every abnormal end (client gone, backend failure); after {@link #onEnd} nothing
 * is held and {@code release()} is a harmless no-op. After either, a chunk is released and nothing is
 * forwarded. {@link #usage()}, {@link #generatedText()} and {@link #sawDone()} stay readable (a
 * cancelled stream is charged for what passed).
 *
 * <p>One tap per attempt. Not thread-safe: confine it to the event loop that relays the response.
 */
public interface UsageTap {

  /**
   * For a {@code text/event-stream} response ({@link EventStreamTap}).
   *
   * @param stripUsageOnlyEvent remove the usage-only event (the client did not ask for usage)
   * @param maxEventBytes       the most bytes of one incomplete event held back while stripping (above
   *                            it, that event is forwarded as it comes), and the longest line read for
   *                            usage and text (a longer line is forwarded but not read, and its event is
   *                            never removed)
   */
  static UsageTap forEventStream(boolean stripUsageOnlyEvent, int maxEventBytes) {
    if (maxEventBytes < 1) {
      throw new IllegalArgumentException("maxEventBytes must be positive: " + maxEventBytes);
    }
    return new EventStreamTap(stripUsageOnlyEvent, maxEventBytes);
  }

  /** For an {@code application/json} response ({@link JsonBodyTap}). */
  static UsageTap forJson() {
    return new JsonBodyTap();
  }

  /** For any other response: forwards every chunk as it is and reports nothing. */
  static UsageTap passThrough() {
    return new PassThroughTap();
  }

  /** Takes ownership of {@code chunk} and appends to {@code out}, in order, the buffers to forward. */
  void onChunk(ByteBuf chunk, List<ByteBuf> out);

  /** The body's last chunk: {@link #onChunk} then {@link #onEnd}, or a shortcut to the same result. */
  default void onLastChunk(ByteBuf chunk, List<ByteBuf> out) {
    onChunk(chunk, out);
    onEnd(out);
  }

  /**
   * The response ended normally: appends to {@code out} anything still held (an incomplete final event
   * goes as it is) and finishes reading (a final line without a line end is still read).
   */
  void onEnd(List<ByteBuf> out);

  /**
   * Frees anything held, the held text included: call at every end, normal or not, once the text is
   * read (if it is wanted: {@link #generatedText()} is "" afterwards; the usage stays). Idempotent.
   */
  void release();

  /** The usage the backend reported (not estimated), or null if none has passed. */
  TokenUsage usage();

  /**
   * The generated text seen so far, capped at 65,536 chars; "" if none. A JSON body read whole
   * ({@link #onLastChunk}) with a usage has its text skipped (""): nothing is estimated then.
   */
  String generatedText();

  /** Whether the generated text went past the cap ({@link #generatedText()} is then a prefix). */
  boolean generatedTextTruncated();

  /** Whether a {@code data: [DONE]} line has passed (event streams only). */
  default boolean sawDone() {
    return false;
  }

  /**
   * Whether the body is not one well-formed JSON object (JSON bodies only) — known once the body ended,
   * or earlier when what arrived so far cannot start one: a backend failure ({@code malformed_response}).
   */
  default boolean malformed() {
    return false;
  }
}
