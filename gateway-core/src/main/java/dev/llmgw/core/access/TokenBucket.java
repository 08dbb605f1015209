package dev.llmgw.core.access;

/**
 * A per-minute allowance that refills continuously (capacity {@code limit}, refill {@code limit} per
 * minute). Unlike a plain rate limiter it can be settled after the fact: token limits debit an
 * estimate at admission and correct it when the real count is known, so the balance may go
 * negative (the next requests wait it out). Thread-safe; contention is per key.
 */
final class TokenBucket {
  private static final long MINUTE_NANOS = 60_000_000_000L;
  private final long limit;
  private double available;
  private long lastNanos;

  TokenBucket(long limit, long nowNanos) {
    this.limit = limit;
    this.available = limit;
    this.lastNanos = nowNanos;
  }

  long limit() {
    return limit;
  }

  /** Takes {@code amount} if at least that much is available now; returns false otherwise. */
  synchronized boolean tryTake(long amount, long nowNanos) {
    refill(nowNanos);
    if (available < amount && available < limit) { // a request bigger than the whole limit may start on a full bucket
      return false;
    }
    available -= amount;
    return true;
  }

  /** Adds back ({@code > 0}) or takes more ({@code < 0}) once the real amount is known. */
  synchronized void settle(long delta, long nowNanos) {
    refill(nowNanos);
    available = Math.min(limit, available + delta);
  }

  synchronized long remaining(long nowNanos) {
    refill(nowNanos);
    return Math.max(0, (long) Math.floor(available));
  }

  /** Nanoseconds until {@code amount} is available (0 if it is). */
  synchronized long nanosUntil(long amount, long nowNanos) {
    refill(nowNanos);
    double missing = Math.min(amount, limit) - available;
    return missing <= 0 ? 0 : (long) Math.ceil(missing * MINUTE_NANOS / limit);
  }

  private void refill(long nowNanos) {
    long elapsed = nowNanos - lastNanos;
    if (elapsed > 0) {
      available = Math.min(limit, available + (double) elapsed * limit / MINUTE_NANOS);
      lastNanos = nowNanos;
    }
  }
}
