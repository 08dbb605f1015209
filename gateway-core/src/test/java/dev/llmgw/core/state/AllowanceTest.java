package dev.llmgw.core.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What one allowance keeps, gives back and hands the flusher (no Redis: the bookkeeping alone). */
class AllowanceTest {
  static final long RENEW_NANOS = TimeUnit.MILLISECONDS.toNanos(RedisStore.LEASE_MILLIS / 3);

  @Test
  void leftoversStayForTheNextRequestUnlessTheLastLeaseWasTight() {
    Allowance a = Allowance.bucket("p:rate:k:tokens", 1000);
    a.giveBack(300);
    assertThat(a.available).isEqualTo(300);
    assertThat(a.pendingBack).isZero();
    a.tight = true; // near the limit: what is not needed goes back to Redis at once
    a.giveBack(200);
    assertThat(a.available).isEqualTo(300);
    assertThat(a.pendingBack).isEqualTo(200);
    a.giveBack(-50); // used more than estimated: taken from what is left here
    assertThat(a.available).isEqualTo(250);
  }

  @Test
  void aBudgetAccountNamesItsThreeRedisKeysAndItsCopyStartsEmpty() {
    Allowance a = Allowance.account("p:budget:key:k:2025-01-31", 1234);
    assertThat(a.accountKeys).containsExactly("p:budget:key:k:2025-01-31", "p:budget:key:k:2025-01-31:leases",
        "p:budget:key:k:2025-01-31:expiries");
    a.available = 10;
    a.held = 10;
    Allowance c = a.copy();
    assertThat(c.key).isEqualTo(a.key);
    assertThat(c.budget).isTrue();
    assertThat(c.expiryMillis).isEqualTo(1234);
    assertThat(c.available).isZero();
    assertThat(c.held).isZero();
  }

  @Test
  void nothingIsWrittenWhileALeaseIsInUseAndNothingIsPending() {
    Allowance a = Allowance.bucket("b", 60);
    a.available = 5;
    assertThat(a.takeWriteback(a.lastUseNanos + 1_000, false)).isNull();
    assertThat(a.available).isEqualTo(5);
    assertThat(a.retired).isFalse();
  }

  @Test
  void anIdleLeaseGoesBackAndClosingReturnsEverything() {
    Allowance idle = Allowance.bucket("b", 60);
    idle.available = 5;
    idle.pendingBack = 2;
    assertThat(idle.takeWriteback(idle.lastUseNanos + RedisStore.IDLE_RETURN_NANOS + 1, false))
        .isEqualTo(new Allowance.Writeback(0, 7));
    assertThat(idle.available).isZero();
    assertThat(idle.pendingBack).isZero();

    Allowance busy = Allowance.bucket("b2", 60);
    busy.available = 5;
    assertThat(busy.takeWriteback(busy.lastUseNanos, true)).isEqualTo(new Allowance.Writeback(0, 5));
  }

  @Test
  void settledSpendIsCountedOutOfTheLeaseAndTheWriteRenewsIt() {
    Allowance a = Allowance.account("acct", 1);
    a.held = 100;
    a.available = 40;
    a.pendingSpent = 30;
    a.pendingBack = 10;
    long now = a.lastUseNanos + 1_000;
    assertThat(a.takeWriteback(now, false)).isEqualTo(new Allowance.Writeback(30, 10));
    assertThat(a.held).isEqualTo(60);
    assertThat(a.available).isEqualTo(40);
    assertThat(a.lastRenewNanos).isEqualTo(now);
    assertThat(a.takeWriteback(now + 1, false)).as("nothing pending, renewed just now").isNull();
    a.lastUseNanos = now + RENEW_NANOS; // still in use, but the lease is due for renewal
    assertThat(a.takeWriteback(now + RENEW_NANOS + 1, false)).isEqualTo(new Allowance.Writeback(0, 0));
    assertThat(a.held).isEqualTo(60);
  }

  @Test
  void anIdleEmptyAllowanceRetiresButNotWhileItHoldsALeaseOrTheStoreCloses() {
    Allowance a = Allowance.account("acct", 1);
    long later = a.lastUseNanos + Allowance.RETIRE_NANOS + 1;
    a.lastRenewNanos = later; // not due for renewal
    a.held = 1;
    assertThat(a.takeWriteback(later, false)).isNull();
    assertThat(a.retired).as("holds a lease").isFalse();
    a.held = 0;
    assertThat(a.takeWriteback(later, true)).isNull();
    assertThat(a.retired).as("closing").isFalse();
    assertThat(a.takeWriteback(a.lastUseNanos + 1_000, false)).isNull();
    assertThat(a.retired).as("used recently").isFalse();
    assertThat(a.takeWriteback(later, false)).isNull();
    assertThat(a.retired).isTrue();
  }
}
