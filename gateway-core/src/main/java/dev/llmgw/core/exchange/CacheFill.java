package dev.llmgw.core.exchange;

import dev.llmgw.core.cache.CachedResponse;
import dev.llmgw.core.log.Outcome;
import dev.llmgw.core.log.RequestLog;
import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * Records a response as the client receives it, for the cache: the relay copies each body chunk here
 * before writing it (the chunk itself goes on to the client untouched: nothing is held back or
 * aggregated). Past {@code maxBytes} it stops recording and the response is not cached. Its bytes
 * become an entry only when the request ended served, with a 2xx, on the alias the key was made for.
 *
 * <p>Confined to the request's event loop; holds a byte array, never a buffer.
 */
public final class CacheFill {
  private final int maxBytes;
  private final String alias;
  private byte[] bytes = new byte[1024];
  private int size;
  private boolean started;
  private boolean over;
  private String contentType;
  private boolean eventStream;

  /** @param alias the alias the key was made for (an answer from a fallback is not stored under it) */
  CacheFill(int maxBytes, String alias) {
    this.maxBytes = maxBytes;
    this.alias = alias;
  }

  /** The head went out: the commit, once per request (nothing was recorded before it). */
  void start(String contentType, boolean eventStream) {
    this.started = true;
    this.contentType = contentType;
    this.eventStream = eventStream;
  }

  /** Copies the readable bytes of a chunk about to be written (its indexes unchanged). */
  void append(ByteBuf chunk) {
    int n = chunk.readableBytes();
    if (over || !started || n == 0) {
      return;
    }
    if (size + n > maxBytes) {
      over = true;
      bytes = null;
      return;
    }
    if (size + n > bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.min(maxBytes, Math.max(size + n, bytes.length * 2)));
    }
    chunk.getBytes(chunk.readerIndex(), bytes, size, n);
    size += n;
  }

  /** The entry to store for an ended request, or null when it must not be stored. */
  CachedResponse entry(RequestLog log) {
    if (!started || over || log.outcome() != Outcome.SERVED || log.status() / 100 != 2
        || !alias.equals(log.alias()) || log.fallbacks() > 0) {
      return null;
    }
    return new CachedResponse(Arrays.copyOf(bytes, size), contentType, eventStream, log.backend(), log.alias(),
        log.promptTokens(), log.completionTokens(), log.cachedPromptTokens());
  }
}
