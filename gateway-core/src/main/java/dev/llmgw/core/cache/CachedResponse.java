package dev.llmgw.core.cache;

/**
 * One stored answer: the body exactly as the client received it (an OpenAI JSON object, or the whole
 * SSE event stream up to {@code data: [DONE]}) and what it took to produce it.
 *
 * @param body             the body's bytes (never changed after it is stored: shared by every hit)
 * @param contentType      its Content-Type
 * @param eventStream      whether it is an SSE stream
 * @param backend          the backend that answered (metric label)
 * @param alias            the alias that answered (priced at a hit: the money saved)
 * @param promptTokens     its usage, as recorded for the original request (-1: unknown)
 * @param completionTokens its completion tokens (-1: unknown)
 * @param cachedPromptTokens its cached prompt tokens
 */
public record CachedResponse(byte[] body, String contentType, boolean eventStream, String backend, String alias,
    long promptTokens, long completionTokens, long cachedPromptTokens) {

  /** What an entry costs beyond its body (key, record, strings): counted in the byte bound. */
  static final int OVERHEAD_BYTES = 256;

  /** Bytes counted against {@code cache.maxBytes}. */
  public int weight() {
    return body.length + OVERHEAD_BYTES;
  }
}
