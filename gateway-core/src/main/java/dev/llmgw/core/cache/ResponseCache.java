package dev.llmgw.core.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.llmgw.core.config.CacheSettings;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The process's exact response cache: entries by {@link CacheKey}, bounded by the bodies' bytes
 * ({@code cache.maxBytes}, least recently used leave first) and by age ({@code cache.ttl}); and the misses in
 * flight, so that identical requests arriving while the first is being answered wait for it instead of
 * calling a backend each ({@link #lookup}).
 *
 * <p>One instance per process. A reload that changes the bounds starts an empty store; other changes keep
 * the entries (which aliases and tiers are cached is decided per request). Thread-safe; nothing blocks:
 * Caffeine's upkeep runs on the calling thread, a few map operations.
 */
public final class ResponseCache {
  private final Ticker ticker;
  private volatile Store store;
  private final Map<String, CompletableFuture<CachedResponse>> inFlight = new ConcurrentHashMap<>();

  private record Store(CacheSettings settings, Cache<String, Stored> entries) {}

  /** An entry with its own time to live (a shared answer keeps what was left of its own). */
  private record Stored(CachedResponse response, long ttlNanos) {}

  /** The replicas' shared answers (Redis), or null. */
  private volatile SharedAnswers shared;

  /** What a lookup found. */
  public sealed interface Lookup {}

  /** A stored answer. */
  public record Hit(CachedResponse response) implements Lookup {}

  /** An identical miss is in flight: this request waits for its answer (null: it stored none). */
  public record Wait(CompletableFuture<CachedResponse> answer) implements Lookup {}

  /** Nothing stored or in flight: this request answers and must {@link #filled} (or not) when it ends. */
  public record Lead() implements Lookup {}

  /**
   * Nothing here, the key is claimed, and the replicas' shared answers are being asked: completes with the
   * answer (stored here too, and handed to the requests waiting), or null — then this request leads.
   */
  public record Check(CompletableFuture<CachedResponse> answer) implements Lookup {}

  private static final Lead LEAD = new Lead();

  public ResponseCache() {
    this(Ticker.systemTicker());
  }

  /** @param ticker the clock of the entries' age (tests pass a fake one) */
  public ResponseCache(Ticker ticker) {
    this.ticker = ticker;
  }

  /** Applies {@code settings} unless they are the ones applied (one read per request). */
  public void ensure(CacheSettings settings) {
    Store s = store;
    if (s == null ? settings.enabled() || applied != settings : s.settings() != settings) {
      configure(settings);
    }
  }

  private volatile CacheSettings applied;

  /** Applies a (re)loaded config's settings: new bounds start an empty store. */
  public synchronized void configure(CacheSettings settings) {
    applied = settings;
    Store s = store;
    if (s != null && s.settings().sameBounds(settings)) {
      store = new Store(settings, s.entries());
      return;
    }
    store = settings.enabled() ? new Store(settings, Caffeine.newBuilder()
        .maximumWeight(settings.maxBytes())
        .weigher((String k, Stored v) -> v.response().weight())
        .expireAfter(new Expiry<String, Stored>() {
          @Override
          public long expireAfterCreate(String key, Stored value, long currentTime) {
            return value.ttlNanos();
          }

          @Override
          public long expireAfterUpdate(String key, Stored value, long currentTime, long currentDuration) {
            return value.ttlNanos();
          }

          @Override
          public long expireAfterRead(String key, Stored value, long currentTime, long currentDuration) {
            return currentDuration;
          }
        })
        .ticker(ticker)
        .executor(Runnable::run)
        .build()) : null;
  }

  /**
   * Finds {@code key}: a hit, an identical miss in flight to wait for, or nothing — then the caller leads:
   * it calls a backend and must call {@link #filled} once it ended, whatever happened.
   */
  public Lookup lookup(String key) {
    Store s = store;
    if (s == null) {
      return LEAD;
    }
    CachedResponse r = local(s, key);
    if (r != null) {
      return new Hit(r);
    }
    CompletableFuture<CachedResponse> mine = new CompletableFuture<>();
    CompletableFuture<CachedResponse> other = inFlight.putIfAbsent(key, mine);
    if (other != null) {
      return new Wait(other);
    }
    // stored between the look and the claim: answer it, release the claim
    r = local(s, key);
    if (r != null) {
      inFlight.remove(key, mine);
      mine.complete(r);
      return new Hit(r);
    }
    SharedAnswers sh = shared;
    return sh == null ? LEAD : new Check(sh.get(key).thenApply(found -> {
      if (found == null) {
        return null;
      }
      store(key, found.response(), found.ttl().toNanos()); // kept here for what is left of its life
      CompletableFuture<CachedResponse> waiting = inFlight.remove(key);
      if (waiting != null) {
        waiting.complete(found.response());
      }
      return found.response();
    }));
  }

  private static CachedResponse local(Store s, String key) {
    Stored stored = s.entries().getIfPresent(key);
    return stored == null ? null : stored.response();
  }

  /** Shares answers with the other replicas through {@code answers} (null: this process only). */
  public void share(SharedAnswers answers) {
    this.shared = answers;
  }

  /**
   * The leader of {@code key} ended: stores {@code response} (null: nothing to store — failed, cut, too
   * large, served by a fallback) and hands it to the requests waiting.
   */
  public void filled(String key, CachedResponse response) {
    put(key, response);
    CompletableFuture<CachedResponse> waiting = inFlight.remove(key);
    if (waiting != null) {
      waiting.complete(response);
    }
  }

  /** Stores an answer (a refresh, or a request that waited in vain); null is ignored. */
  public void put(String key, CachedResponse response) {
    Store s = store;
    if (response != null && s != null && response.body().length <= s.settings().maxEntryBytes()) {
      s.entries().put(key, new Stored(response, s.settings().ttl().toNanos()));
      SharedAnswers sh = shared;
      if (sh != null) {
        sh.put(key, response, s.settings().ttl());
      }
    }
  }

  private void store(String key, CachedResponse response, long ttlNanos) {
    Store s = store;
    if (s != null && ttlNanos > 0 && response.body().length <= s.settings().maxEntryBytes()) {
      s.entries().put(key, new Stored(response, Math.min(ttlNanos, s.settings().ttl().toNanos())));
    }
  }

  /** Bytes held (bodies plus overhead), after pending upkeep. */
  public long bytes() {
    Store s = store;
    if (s == null) {
      return 0;
    }
    s.entries().cleanUp();
    return s.entries().policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
  }

  /** Entries held. */
  public long entries() {
    Store s = store;
    return s == null ? 0 : s.entries().estimatedSize();
  }

  /** Requests waiting for an identical miss in flight. */
  public int waiting() {
    int n = 0;
    for (CompletableFuture<CachedResponse> f : inFlight.values()) {
      n += f.getNumberOfDependents();
    }
    return n;
  }

  /** Misses in flight that others may wait for. */
  public int inFlight() {
    return inFlight.size();
  }
}
