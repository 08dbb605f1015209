package dev.llmgw.core.state;

import java.util.concurrent.TimeUnit;

/**
 * What this gateway holds of one shared resource in Redis: a rate bucket (requests or tokens per
 * minute of a key) or a budget account (of a key or a team, for one period). Requests take from
 * {@link #available} on the event loop; settlements give back or add spend; the flusher writes the
 * pending amounts to Redis ({@link #takeWriteback}). Every field is guarded by the allowance itself
 * ({@code synchronized (allowance)}); the fields are the {@link RedisLeases}' and {@link RedisFlusher}'s
 * to use under that lock.
 */
final class Allowance {
  /** An allowance unused this long, empty and holding nothing, leaves the map. */
  static final long RETIRE_NANOS = TimeUnit.MINUTES.toNanos(2);

  final String key;
  final boolean budget;
  final String[] accountKeys; // budget: account, leases, lease expiries
  final long limit; // buckets: the per-minute limit
  final long expiryMillis; // budgets: how long the account outlives its period
  long available; // leased and not yet taken by a request
  long held; // budgets: what Redis counts as this gateway's lease
  long pendingSpent; // budgets: settled cost not yet written
  long pendingBack; // unused capacity to give back
  long remainingHint; // buckets: what Redis said was left after the last lease
  boolean tight; // the last lease was exactly the need: give leftovers back at once
  long lastUseNanos = System.nanoTime();
  long lastRenewNanos = System.nanoTime();
  /** Dropped from the map while empty and idle; whoever still holds it goes to the live one instead. */
  boolean retired;

  Allowance(String key, boolean budget, String[] accountKeys, long limit, long expiryMillis) {
    this.key = key;
    this.budget = budget;
    this.accountKeys = accountKeys;
    this.limit = limit;
    this.expiryMillis = expiryMillis;
  }

  /** A rate bucket of {@code limit} per minute. */
  static Allowance bucket(String key, long limit) {
    return new Allowance(key, false, null, limit, 0);
  }

  /** A budget account: its hash, its lease hash and its lease expiries in Redis. */
  static Allowance account(String key, long expiryMillis) {
    return new Allowance(key, true, new String[] {key, key + ":leases", key + ":expiries"}, 0, expiryMillis);
  }

  /** A fresh, empty allowance for the same resource (the live successor of a retired one). */
  Allowance copy() {
    return new Allowance(key, budget, accountKeys, limit, expiryMillis);
  }

  /** Gives back what a request took or did not use: kept here, or returned when near the limit. */
  void giveBack(long amount) {
    if (amount > 0 && tight) {
      pendingBack += amount;
    } else {
      available += amount;
    }
  }

  /** What one flush writes for an allowance: settled spend and capacity given back. */
  record Writeback(long spent, long back) {}

  /**
   * Under the allowance's lock, at {@code now} ({@link System#nanoTime()}): takes what the flush writes
   * to Redis — settled spend, what goes back (all that is available when idle for
   * {@link RedisStore#IDLE_RETURN_NANOS} or when closing) — and counts it out of the budget lease,
   * which the write also renews (due a third of {@link RedisStore#LEASE_MILLIS} after the last).
   *
   * @return what to write, or null when nothing is due; then, if idle for {@link #RETIRE_NANOS}, empty
   *     and holding nothing (and not closing), the allowance is marked {@link #retired} and the caller
   *     drops it from the map under the same lock
   */
  Writeback takeWriteback(long now, boolean closing) {
    if (available > 0 && (closing || now - lastUseNanos > RedisStore.IDLE_RETURN_NANOS)) {
      pendingBack += available;
      available = 0;
    }
    long spent = pendingSpent;
    long back = pendingBack;
    boolean renew = budget && held > 0
        && now - lastRenewNanos > TimeUnit.MILLISECONDS.toNanos(RedisStore.LEASE_MILLIS / 3);
    if (spent == 0 && back == 0 && !renew) {
      if (!closing && available == 0 && held == 0 && now - lastUseNanos > RETIRE_NANOS) {
        retired = true; // under its lock: a late settlement goes to a new, live one (RedisLeases.change)
      }
      return null;
    }
    pendingSpent = 0;
    pendingBack = 0;
    if (budget) {
      held = Math.max(0, held - spent - back);
      lastRenewNanos = now;
    }
    return new Writeback(spent, back);
  }
}
