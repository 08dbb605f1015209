package dev.llmgw.core.access;

import dev.llmgw.core.config.Access;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Per-key request and token limits (per minute). Requests are counted at admission; tokens are
 * debited with the prompt estimate at admission and settled with the real count after the response
 * ({@link Admission#settleTokens}). Buckets are kept per key name and survive reloads while the key's
 * limits stay the same.
 */
public final class RateLimits {
  private final Map<String, Buckets> byKey = new ConcurrentHashMap<>();
  private final LongSupplier nanos;

  public RateLimits(LongSupplier nanos) {
    this.nanos = nanos;
  }

  record Buckets(int rpm, long tpm, TokenBucket requests, TokenBucket tokens) {}

  /** The outcome of an admission check, with the figures for the {@code x-ratelimit-*} headers. */
  public record Admission(boolean allowed, long retryAfterMillis, String limitedBy, long limitRequests,
      long remainingRequests, long resetRequestsMillis, long limitTokens, long remainingTokens,
      long resetTokensMillis, TokenBucket tokenBucket, long debited) {

    /** Corrects the token debit once the real count is known (no-op without a token limit). */
    public void settleTokens(long actualTokens, long nowNanos) {
      if (tokenBucket != null && actualTokens >= 0) {
        tokenBucket.settle(debited - actualTokens, nowNanos);
      }
    }
  }

  private static final Admission UNLIMITED = new Admission(true, 0, null, 0, 0, 0, 0, 0, 0, null, 0);

  /**
   * Admits a request for {@code key} that is estimated to use {@code estimatedTokens}.
   *
   * @return the admission: when not allowed, {@code retryAfterMillis} says how long to wait
   */
  public Admission admit(Access.ApiKey key, long estimatedTokens) {
    if (key == null || (key.requestsPerMinute() == 0 && key.tokensPerMinute() == 0)) {
      return UNLIMITED;
    }
    long now = nanos.getAsLong();
    Buckets b = byKey.compute(key.name(), (n, old) -> old != null && old.rpm() == key.requestsPerMinute()
        && old.tpm() == key.tokensPerMinute() ? old : new Buckets(key.requestsPerMinute(), key.tokensPerMinute(),
        key.requestsPerMinute() > 0 ? new TokenBucket(key.requestsPerMinute(), now) : null,
        key.tokensPerMinute() > 0 ? new TokenBucket(key.tokensPerMinute(), now) : null));
    if (b.requests() != null && !b.requests().tryTake(1, now)) {
      return refused(b, "requests", b.requests().nanosUntil(1, now), now, estimatedTokens);
    }
    if (b.tokens() != null && !b.tokens().tryTake(estimatedTokens, now)) {
      if (b.requests() != null) {
        b.requests().settle(1, now); // not admitted: give the request back
      }
      return refused(b, "tokens", b.tokens().nanosUntil(estimatedTokens, now), now, estimatedTokens);
    }
    return new Admission(true, 0, null, b.rpm(), remaining(b.requests(), now), reset(b.requests(), now), b.tpm(),
        remaining(b.tokens(), now), reset(b.tokens(), now), b.tokens(), b.tokens() == null ? 0 : estimatedTokens);
  }

  private static Admission refused(Buckets b, String by, long waitNanos, long now, long estimate) {
    return new Admission(false, Math.max(1, waitNanos / 1_000_000), by, b.rpm(), remaining(b.requests(), now),
        reset(b.requests(), now), b.tpm(), remaining(b.tokens(), now), reset(b.tokens(), now), null, 0);
  }

  private static long remaining(TokenBucket t, long now) {
    return t == null ? 0 : t.remaining(now);
  }

  /** Milliseconds until the bucket is full again. */
  private static long reset(TokenBucket t, long now) {
    return t == null ? 0 : t.nanosUntil(t.limit(), now) / 1_000_000;
  }
}
