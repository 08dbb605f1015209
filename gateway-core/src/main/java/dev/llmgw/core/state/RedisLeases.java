package dev.llmgw.core.state;

import dev.llmgw.core.access.RateLimits;
import dev.llmgw.core.config.Access;
import dev.llmgw.core.state.StateStore.Grant;
import dev.llmgw.core.state.StateStore.Settlement;
import io.lettuce.core.ScriptOutputType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Admission against Redis from leased capacity: the {@link Allowance}s this gateway holds (one per
 * rate bucket and budget account, by Redis key), taken from on the calling thread while they cover
 * the request, topped up atomically for every resource the request needs by {@code lease.lua} when
 * they do not, and given back or counted as spent by the grant's settlement (the {@link RedisFlusher}
 * writes that back). While Redis cannot answer, the policy: {@code failOpen} admits with this
 * process's own limits (a {@link MemoryStore}) and keeps the spend for Redis; {@code failClosed}
 * refuses with {@link StateUnavailableException}. Also the soft-budget view: spent + reserved per
 * account as Redis last said.
 *
 * <p>Never blocks: a grant completes at once or when Redis answers (on Lettuce's threads).
 * Allowances are locked one at a time, in a fixed order, so locks never cross.
 */
final class RedisLeases {
  private final RedisLink link;
  private final RedisKeys keys;
  private final MemoryStore local;
  private final RedisScript leaseScript = RedisScript.load("lease.lua");
  /** What this gateway holds of each shared resource, by its Redis key. */
  private final Map<String, Allowance> allowances = new ConcurrentHashMap<>();
  /** Spent + reserved per account and period as Redis last said (soft budgets read it). */
  private final Map<String, Long> usedView = new ConcurrentHashMap<>();
  private final Counter localAdmissions;
  private final Counter refused;

  RedisLeases(RedisLink link, RedisKeys keys, MemoryStore local, MeterRegistry registry) {
    this.link = link;
    this.keys = keys;
    this.local = local;
    this.localAdmissions = Counter.builder("gateway.state.local.admissions")
        .description("Requests admitted with this process's own limits while Redis could not answer (failOpen)")
        .register(registry);
    this.refused = Counter.builder("gateway.state.refused")
        .description("Keyed requests refused with 503 while Redis could not answer (failClosed)").register(registry);
  }

  /** Every allowance held now (the flusher walks them). */
  Collection<Allowance> all() {
    return allowances.values();
  }

  /** Drops a retired allowance from the map; under its lock (see {@link Allowance#takeWriteback}). */
  void drop(Allowance a) {
    allowances.remove(a.key, a);
  }

  /**
   * Runs {@code change} on the allowance under its lock — on the live one if {@code a} was retired
   * meanwhile (an idle, empty allowance leaves the map; a request admitted before may settle later).
   */
  void change(Allowance a, Consumer<Allowance> change) {
    Allowance x = a;
    while (true) {
      synchronized (x) {
        if (!x.retired) {
          change.accept(x);
          return;
        }
      }
      Allowance retired = x;
      x = allowances.computeIfAbsent(retired.key, k -> retired.copy());
    }
  }

  private Allowance bucket(String key, long limit) {
    return allowances.computeIfAbsent(key, k -> Allowance.bucket(k, limit));
  }

  private Allowance account(String kind, String name, Access.Budget b) {
    return allowances.computeIfAbsent(keys.budget(kind, name, b),
        k -> Allowance.account(k, RedisKeys.expiryMillis(b)));
  }

  /** {@link StateStore#admit}: from the allowances, else a lease, else the policy. */
  CompletableFuture<Grant> admit(Access.ApiKey key, Access.Team team, long tokens, long maxCostMicros) {
    if (key == null) {
      return CompletableFuture.completedFuture(Grant.FREE);
    }
    Access.Budget kb = key.budget();
    Access.Budget tb = team == null ? null : team.budget();
    long rpm = key.requestsPerMinute();
    long tpm = key.tokensPerMinute();
    if (rpm == 0 && tpm == 0 && kb == null && tb == null) {
      return CompletableFuture.completedFuture(Grant.FREE);
    }
    if (!link.isUp() && !link.settings().failOpen()) {
      refused.increment();
      String lastError = link.lastError();
      return CompletableFuture.failedFuture(new StateUnavailableException("Redis: "
          + (lastError == null ? "down" : lastError)));
    }
    // the resources in a fixed order (requests, tokens, key budget, team budget): locks never cross
    Allowance[] res = {rpm > 0 ? bucket(keys.key("rate", key.name(), "requests"), rpm) : null,
        tpm > 0 ? bucket(keys.key("rate", key.name(), "tokens"), tpm) : null,
        kb != null ? account("key", key.name(), kb) : null,
        tb != null ? account("team", team.name(), tb) : null};
    long[] need = {1, tokens, maxCostMicros, maxCostMicros};
    boolean[] taken = new boolean[4];
    boolean all = true;
    long now = System.nanoTime();
    for (int i = 0; i < 4; i++) {
      Allowance a = res[i];
      if (a == null) {
        taken[i] = true;
        continue;
      }
      synchronized (a) {
        a.lastUseNanos = now;
        if (!a.retired && a.available >= need[i]) {
          a.available -= need[i];
          taken[i] = true;
        } else {
          all = false;
        }
      }
    }
    if (all) {
      return CompletableFuture.completedFuture(granted(key, res, need, tokens, maxCostMicros));
    }
    if (!link.isUp()) {
      giveBack(res, need, taken);
      return unavailable(key, team, tokens, maxCostMicros, link.lastError());
    }
    String[] scriptKeys = {res[0] == null ? keys.key("rate", key.name(), "requests") : res[0].key,
        res[1] == null ? keys.key("rate", key.name(), "tokens") : res[1].key,
        res[2] == null ? "" : res[2].accountKeys[0], res[2] == null ? "" : res[2].accountKeys[1],
        res[2] == null ? "" : res[2].accountKeys[2], res[3] == null ? "" : res[3].accountKeys[0],
        res[3] == null ? "" : res[3].accountKeys[1], res[3] == null ? "" : res[3].accountKeys[2]};
    long expiry = Math.max(kb == null ? 0 : RedisKeys.expiryMillis(kb), tb == null ? 0 : RedisKeys.expiryMillis(tb));
    String[] args = {Long.toString(rpm), taken[0] ? "0" : "1", Long.toString(tpm),
        taken[1] ? "0" : Long.toString(Math.max(1, tokens)), taken[2] ? "" : RedisKeys.hard(kb),
        Long.toString(maxCostMicros), taken[3] ? "" : RedisKeys.hard(tb), Long.toString(maxCostMicros),
        keys.instance(), Long.toString(RedisStore.LEASE_MILLIS), Long.toString(expiry)};
    CompletableFuture<Grant> out = new CompletableFuture<>();
    leaseScript.<List<Object>>run(link.async(), ScriptOutputType.MULTI, scriptKeys, args)
        .whenComplete((r, failure) -> {
          if (failure != null) {
            giveBack(res, need, taken);
            link.failed("lease", failure); // a lease granted after the answer was given up expires unused
            unavailable(key, team, tokens, maxCostMicros, link.lastError()).whenComplete((g, f) -> {
              if (f != null) {
                out.completeExceptionally(f);
              } else {
                out.complete(g);
              }
            });
            return;
          }
          try {
            out.complete(leased(key, res, need, taken, tokens, maxCostMicros, r));
          } catch (RuntimeException e) {
            out.completeExceptionally(e);
          }
        });
    return out;
  }

  private void giveBack(Allowance[] res, long[] need, boolean[] taken) {
    for (int i = 0; i < res.length; i++) {
      if (res[i] != null && taken[i]) {
        long n = need[i];
        change(res[i], a -> a.available += n);
      }
    }
  }

  /** What {@code lease.lua} answered: a refusal, or the capacity leased, kept beyond this request's need. */
  private Grant leased(Access.ApiKey key, Allowance[] res, long[] need, boolean[] taken, long tokens, long micros,
      List<Object> r) {
    long code = (Long) r.get(0);
    if (res[2] != null) {
      view(res[2].key, (Long) r.get(8));
    }
    if (res[3] != null) {
      view(res[3].key, (Long) r.get(9));
    }
    if (code != 0) {
      giveBack(res, need, taken);
      long retry = (Long) r.get(1);
      RateLimits.Admission rate = figures(key, res, false);
      if (code == 1 || code == 2) {
        return new Grant(false, rate, code == 1 ? "requests" : "tokens", retry, null, 0, Settlement.NONE);
      }
      return new Grant(false, rate, null, 0, code == 3 ? "key" : "team", 0, Settlement.NONE);
    }
    for (int i = 0; i < 4; i++) {
      Allowance a = res[i];
      if (a == null || taken[i]) {
        continue;
      }
      long granted = (Long) r.get(2 + i);
      long n = need[i];
      long hint = (Long) r.get(i == 0 ? 6 : 7);
      change(a, x -> {
        x.available += granted - n;
        x.tight = granted == n;
        if (x.budget) {
          x.held += granted;
        } else {
          x.remainingHint = hint;
        }
      });
    }
    return granted(key, res, need, tokens, micros);
  }

  /** The rate-limit figures as far as this gateway knows them (Redis's last word plus its own lease). */
  private static RateLimits.Admission figures(Access.ApiKey key, Allowance[] res, boolean allowed) {
    long rpm = key.requestsPerMinute();
    long tpm = key.tokensPerMinute();
    if (rpm == 0 && tpm == 0) {
      return null;
    }
    long remR = remaining(res[0]);
    long remT = remaining(res[1]);
    return new RateLimits.Admission(allowed, 0, null, rpm, remR, resetMillis(rpm, remR), tpm, remT,
        resetMillis(tpm, remT), null, 0);
  }

  /** What is left of a bucket as this gateway knows it: Redis's last word plus its lease, within the limit. */
  static long remaining(Allowance a) {
    if (a == null) {
      return 0;
    }
    synchronized (a) {
      return Math.max(0, Math.min(a.limit, a.remainingHint + a.available));
    }
  }

  /** When a sliding minute with {@code remaining} of {@code limit} left is full again, at the latest. */
  static long resetMillis(long limit, long remaining) {
    return limit <= 0 ? 0 : (limit - remaining) * 60_000 / limit;
  }

  private Grant granted(Access.ApiKey key, Allowance[] res, long[] need, long tokens, long micros) {
    RateLimits.Admission rate = figures(key, res, true);
    if (res[1] == null && res[2] == null && res[3] == null) {
      return new Grant(true, rate, null, 0, null, 0, Settlement.NONE); // requests only: nothing to correct later
    }
    AtomicBoolean once = new AtomicBoolean();
    return new Grant(true, rate, null, 0, null, micros, (used, actual) -> {
      if (!once.compareAndSet(false, true)) {
        return;
      }
      if (res[1] != null) {
        change(res[1], a -> a.giveBack(need[1] - used));
      }
      long cost = actual < 0 ? micros : actual; // unknown price: the reservation counts as spent
      for (int i = 2; i < 4; i++) {
        if (res[i] != null) {
          change(res[i], a -> {
            a.pendingSpent += cost;
            a.giveBack(micros - cost);
          });
        }
      }
    });
  }

  /** Redis cannot answer: this process's own limits (failOpen), or 503 (failClosed). */
  private CompletableFuture<Grant> unavailable(Access.ApiKey key, Access.Team team, long tokens, long micros,
      String why) {
    if (!link.settings().failOpen()) {
      refused.increment();
      return CompletableFuture.failedFuture(new StateUnavailableException("Redis: " + (why == null ? "down" : why)));
    }
    localAdmissions.increment();
    Grant g = local.admitNow(key, team, tokens, micros);
    Access.Budget kb = key.budget();
    Access.Budget tb = team == null ? null : team.budget();
    if (!g.allowed() || (kb == null && tb == null)) {
      return CompletableFuture.completedFuture(g);
    }
    Settlement localSettlement = g.settlement();
    Allowance ka = kb == null ? null : account("key", key.name(), kb);
    Allowance ta = tb == null ? null : account("team", team.name(), tb);
    return CompletableFuture.completedFuture(new Grant(true, g.rate(), null, 0, null, g.reservedMicros(),
        (used, actual) -> {
          localSettlement.settle(used, actual);
          long cost = actual < 0 ? g.reservedMicros() : actual;
          // spent while Redis was away still counts there: written (or queued) by the next flush
          for (Allowance a : new Allowance[] {ka, ta}) {
            if (a != null) {
              change(a, x -> x.pendingSpent += cost);
            }
          }
        }));
  }

  /** Keeps what Redis said an account has spent and reserved ({@code -1}: it did not say). */
  void view(String account, long used) {
    if (used >= 0) {
      usedView.put(account, used);
    }
  }

  /** {@link StateStore#shouldDowngrade}: Redis's last word, or this process's own view while it is down. */
  boolean shouldDowngrade(Access.ApiKey key, Access.Team team) {
    if (!link.isUp()) {
      return local.shouldDowngrade(key, team);
    }
    return soft(key == null ? null : key.budget(), key == null ? null : "key", key == null ? null : key.name())
        || soft(team == null ? null : team.budget(), "team", team == null ? null : team.name());
  }

  private boolean soft(Access.Budget b, String kind, String name) {
    if (b == null || !b.downgrade() || Double.isNaN(b.soft())) {
      return false;
    }
    Long used = usedView.get(keys.budget(kind, name, b));
    return used != null && used >= Math.round(b.soft() * 1_000_000);
  }
}
