package dev.llmgw.core.state;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.llmgw.core.cache.CachedResponse;
import dev.llmgw.core.cache.SharedAnswers;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The response cache's answers shared through Redis: one string per key ({@code <prefix>cache:<sha256>},
 * the entry as JSON with its body in base64) with the cache's TTL ({@code SET ... PX}), read with its
 * remaining time to live ({@code GET} and {@code PTTL} pipelined). Redis's own memory bound applies
 * ({@code maxmemory} with an eviction policy such as {@code volatile-ttl} is the operator's to set);
 * {@code cache.maxBytes} bounds each process's copy.
 *
 * <p>Best effort by design: while Redis is down, or when a command fails or times out, a read is a miss
 * and a write is dropped (counted with the store's errors), never queued for replay — a lost cache write
 * costs one more backend call, not money or limits. An error reply (Redis full under {@code noeviction})
 * does not mark the store down, so admission keeps using Redis. Never blocks: Lettuce completes on its own
 * threads.
 */
final class RedisAnswers implements SharedAnswers {
  private static final Logger LOG = LoggerFactory.getLogger(RedisAnswers.class);
  private static final ObjectMapper JSON = JsonMapper.builder().build();

  private final RedisLink link;
  private final RedisKeys keys;

  RedisAnswers(RedisLink link, RedisKeys keys) {
    this.link = link;
    this.keys = keys;
  }

  @Override
  public CompletableFuture<Shared> get(String key) {
    if (!link.isUp()) {
      return CompletableFuture.completedFuture(null);
    }
    String k = keys.key("cache", key);
    CompletableFuture<String> value;
    CompletableFuture<Long> ttl;
    try {
      value = link.bulk().get(k).toCompletableFuture();
      ttl = link.bulk().pttl(k).toCompletableFuture();
    } catch (RuntimeException e) {
      link.bestEffortFailed("cache read", e);
      return CompletableFuture.completedFuture(null);
    }
    return value.thenCombine(ttl, (v, t) -> v == null || t == null || t <= 0 ? null
        : new Shared(read(v), Duration.ofMillis(t))).exceptionally(failure -> {
          link.bestEffortFailed("cache read", failure);
          return null;
        }).thenApply(s -> s == null || s.response() == null ? null : s);
  }

  @Override
  public void put(String key, CachedResponse response, Duration ttl) {
    if (!link.isUp()) {
      return;
    }
    String json;
    try {
      json = JSON.writeValueAsString(response);
    } catch (IOException e) {
      LOG.warn("cache: an answer could not be written as JSON for Redis", e);
      return;
    }
    try {
      link.bulk().psetex(keys.key("cache", key), ttl.toMillis(), json).exceptionally(failure -> {
        link.bestEffortFailed("cache write", failure);
        return null;
      });
    } catch (RuntimeException e) {
      link.bestEffortFailed("cache write", e);
    }
  }

  private static CachedResponse read(String json) {
    try {
      return JSON.readValue(json, CachedResponse.class);
    } catch (IOException e) {
      LOG.warn("cache: an answer in Redis is unreadable and is ignored ({})", e.getMessage());
      return null;
    }
  }
}
