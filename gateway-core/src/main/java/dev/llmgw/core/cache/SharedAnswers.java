package dev.llmgw.core.cache;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Answers shared by every replica (the Redis state store's, when configured): a second level behind
 * this process's {@link ResponseCache}. A miss here costs one round trip before the backend call; a
 * hit here is stored locally for what is left of its time to live.
 */
public interface SharedAnswers {

  /** A shared answer and what is left of its time to live. */
  record Shared(CachedResponse response, Duration ttl) {}

  /**
   * The answer stored under {@code key} by any replica; completes with null when there is none or the
   * store cannot answer now (never exceptionally, never blocking the caller).
   */
  CompletableFuture<Shared> get(String key);

  /** Stores {@code response} for {@code ttl} (asynchronous; a failure is logged and counted, not retried). */
  void put(String key, CachedResponse response, Duration ttl);
}
