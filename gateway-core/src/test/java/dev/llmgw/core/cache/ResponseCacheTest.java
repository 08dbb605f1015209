package dev.llmgw.core.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.llmgw.core.config.CacheSettings;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The store's bounds (bytes, age) and the coalescing of identical misses in flight. */
class ResponseCacheTest {
  private final AtomicLong nanos = new AtomicLong();
  private final Ticker ticker = nanos::get;

  private static CacheSettings settings(long maxBytes, int maxEntry, Duration ttl) {
    return new CacheSettings(Set.of("m"), Set.of(), Map.of(), ttl, maxBytes, maxEntry, true, true);
  }

  private static CachedResponse entry(int bytes) {
    return new CachedResponse(new byte[bytes], "application/json", false, "b", "m", 10, 5, 0);
  }

  private static void lead(ResponseCache c, String key, CachedResponse r) {
    assertThat(c.lookup(key)).isInstanceOf(ResponseCache.Lead.class);
    c.filled(key, r);
  }

  @Test
  void theByteBoundHoldsWithOneMegabyteAnswers() {
    ResponseCache c = new ResponseCache(ticker);
    c.configure(settings(8L << 20, 2 << 20, Duration.ofMinutes(10)));
    for (int i = 0; i < 40; i++) {
      lead(c, "k" + i, entry(1 << 20));
      assertThat(c.bytes()).isLessThanOrEqualTo(8L << 20);
    }
    assertThat(c.entries()).isBetween(1L, 7L);
  }

  @Test
  void anAnswerOverTheEntryCapIsNotStored() {
    ResponseCache c = new ResponseCache(ticker);
    c.configure(settings(8L << 20, 1 << 20, Duration.ofMinutes(10)));
    lead(c, "big", entry((1 << 20) + 1));
    assertThat(c.entries()).isZero();
    assertThat(c.lookup("big")).isInstanceOf(ResponseCache.Lead.class);
  }

  @Test
  void entriesExpireAfterTheTtl() {
    ResponseCache c = new ResponseCache(ticker);
    c.configure(settings(8L << 20, 1 << 20, Duration.ofMinutes(10)));
    lead(c, "k", entry(100));
    nanos.addAndGet(Duration.ofMinutes(9).toNanos());
    assertThat(c.lookup("k")).isInstanceOf(ResponseCache.Hit.class);
    nanos.addAndGet(Duration.ofMinutes(1).toNanos());
    assertThat(c.lookup("k")).isInstanceOf(ResponseCache.Lead.class);
  }

  @Test
  void identicalMissesInFlightWaitForTheFirst() {
    ResponseCache c = new ResponseCache(ticker);
    c.configure(settings(8L << 20, 1 << 20, Duration.ofMinutes(10)));
    assertThat(c.lookup("k")).isInstanceOf(ResponseCache.Lead.class);
    ResponseCache.Lookup second = c.lookup("k");
    ResponseCache.Lookup third = c.lookup("k");
    assertThat(second).isInstanceOf(ResponseCache.Wait.class);
    assertThat(((ResponseCache.Wait) second).answer()).isSameAs(((ResponseCache.Wait) third).answer()).isNotDone();
    CachedResponse r = entry(10);
    c.filled("k", r);
    assertThat(((ResponseCache.Wait) second).answer()).isCompletedWithValue(r);
    assertThat(c.inFlight()).isZero();
    assertThat(c.lookup("k")).isEqualTo(new ResponseCache.Hit(r));
  }

  @Test
  void aLeaderThatStoresNothingReleasesItsWaitersAndTheKey() {
    ResponseCache c = new ResponseCache(ticker);
    c.configure(settings(8L << 20, 1 << 20, Duration.ofMinutes(10)));
    c.lookup("k");
    ResponseCache.Wait w = (ResponseCache.Wait) c.lookup("k");
    c.filled("k", null);
    assertThat(w.answer()).isCompletedWithValue(null);
    assertThat(c.lookup("k")).isInstanceOf(ResponseCache.Lead.class);
  }

  @Test
  void aReloadKeepsEntriesUnlessTheBoundsChange() {
    ResponseCache c = new ResponseCache(ticker);
    CacheSettings first = settings(8L << 20, 1 << 20, Duration.ofMinutes(10));
    c.ensure(first);
    lead(c, "k", entry(10));
    c.ensure(new CacheSettings(Set.of("other"), Set.of(), Map.of(), Duration.ofMinutes(10), 8L << 20, 1 << 20,
        true, true));
    assertThat(c.entries()).isEqualTo(1);
    c.ensure(settings(4L << 20, 1 << 20, Duration.ofMinutes(10)));
    assertThat(c.entries()).isZero();
    c.ensure(CacheSettings.off());
    assertThat(c.lookup("k")).isInstanceOf(ResponseCache.Lead.class);
    assertThat(c.bytes()).isZero();
  }

  /** Answers shared by replicas, in memory, with a time to live each. */
  static final class FakeShared implements SharedAnswers {
    final Map<String, SharedAnswers.Shared> stored = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public java.util.concurrent.CompletableFuture<Shared> get(String key) {
      return java.util.concurrent.CompletableFuture.completedFuture(stored.get(key));
    }

    @Override
    public void put(String key, CachedResponse response, Duration ttl) {
      stored.put(key, new Shared(response, ttl));
    }
  }

  @Test
  void aSharedAnswerIsAHitKeptLocallyForWhatIsLeftOfItsLife() {
    ResponseCache c = new ResponseCache(ticker);
    c.configure(settings(8L << 20, 1 << 20, Duration.ofMinutes(10)));
    FakeShared shared = new FakeShared();
    c.share(shared);
    CachedResponse r = entry(10);
    shared.put("k", r, Duration.ofMinutes(1));
    ResponseCache.Lookup first = c.lookup("k");
    assertThat(first).isInstanceOf(ResponseCache.Check.class);
    assertThat(((ResponseCache.Check) first).answer()).isCompletedWithValue(r);
    assertThat(c.inFlight()).as("the claim is released").isZero();
    assertThat(c.lookup("k")).isEqualTo(new ResponseCache.Hit(r));
    nanos.addAndGet(Duration.ofMinutes(1).toNanos());
    assertThat(c.lookup("k")).as("expired with the shared copy's time").isInstanceOf(ResponseCache.Check.class);
  }

  @Test
  void nothingSharedMeansTheCheckerLeadsAndItsAnswerIsShared() {
    ResponseCache c = new ResponseCache(ticker);
    c.configure(settings(8L << 20, 1 << 20, Duration.ofMinutes(10)));
    FakeShared shared = new FakeShared();
    c.share(shared);
    ResponseCache.Check check = (ResponseCache.Check) c.lookup("k");
    assertThat(check.answer()).isCompletedWithValue(null);
    ResponseCache.Wait waiting = (ResponseCache.Wait) c.lookup("k");
    CachedResponse r = entry(10);
    c.filled("k", r);
    assertThat(waiting.answer()).isCompletedWithValue(r);
    assertThat(shared.stored.get("k")).isEqualTo(new SharedAnswers.Shared(r, Duration.ofMinutes(10)));
  }
}
