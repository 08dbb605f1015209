/**
 * The exact response cache: the canonical key of a request ({@link dev.llmgw.core.cache.CacheKey}), the
 * per-request directive ({@link dev.llmgw.core.cache.CacheDirective}), the bounded in-process store with
 * coalescing of identical misses in flight ({@link dev.llmgw.core.cache.ResponseCache}), its entries
 * ({@link dev.llmgw.core.cache.CachedResponse}: plain bytes, never a Netty buffer) and the second level shared
 * by replicas ({@link dev.llmgw.core.cache.SharedAnswers}, implemented by the Redis state store).
 *
 * <p>Depends on: {@code config} (the settings), {@code ingress} (the parsed request), {@code error}, Jackson and
 * Caffeine. Must not: touch Netty (the exchange records and replays bodies), the state store or the request log.
 * Threads: thread-safe; never blocks (a waiting request gets a future, completed by the request it waits for).
 */
package dev.llmgw.core.cache;
