package dev.llmgw.core.access;

import dev.llmgw.core.config.Access;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Spend against key and team budgets, per day or month (UTC). Admission reserves the request's
 * estimated maximum cost on every budget it counts against, atomically with the check, so concurrent
 * requests cannot together overspend beyond what was reserved; the reservation is settled with the
 * real cost when the call ends. Amounts are kept in micro-dollars.
 */
public final class Budgets {
  private final Map<String, Account> accounts = new ConcurrentHashMap<>();
  private final Clock clock;

  public Budgets(Clock clock) {
    this.clock = clock;
  }

  /** What admission decided. */
  public record Verdict(boolean allowed, boolean downgrade, String exhausted, Reservation reservation) {}

  /** Money reserved on up to two accounts; settle exactly once. */
  public static final class Reservation {
    private final Account key;
    private final Account team;
    private final long micros;
    private boolean settled;

    Reservation(Account key, Account team, long micros) {
      this.key = key;
      this.team = team;
      this.micros = micros;
    }

    /** Replaces the reservation with the real cost (NaN: unknown — the reservation is kept as spent). */
    public synchronized void settle(double actualUsd) {
      if (settled) {
        return;
      }
      settled = true;
      long actual = Double.isNaN(actualUsd) ? micros : Math.round(actualUsd * 1_000_000);
      if (key != null) {
        key.settle(micros, actual);
      }
      if (team != null) {
        team.settle(micros, actual);
      }
    }
  }

  /**
   * Reserves {@code estimatedUsd} for a request of {@code key}.
   *
   * @return not allowed (with the exhausted budget's name) when a hard budget would be exceeded;
   *     {@code downgrade} when a soft budget is spent and the key downgrades
   */
  public Verdict admit(Access.ApiKey key, Access.Team team, double estimatedUsd) {
    Access.Budget kb = key == null ? null : key.budget();
    Access.Budget tb = team == null ? null : team.budget();
    if (kb == null && tb == null) {
      return new Verdict(true, false, null, null);
    }
    long micros = Math.max(0, Math.round(estimatedUsd * 1_000_000));
    Account ka = kb == null ? null : account("key:" + key.name(), kb);
    Account ta = tb == null ? null : account("team:" + team.name(), tb);
    LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
    // lock in a fixed order (key, then team) so that two accounts are reserved atomically together
    Account first = ka != null ? ka : ta;
    Account second = ka != null ? ta : null;
    synchronized (first) {
      if (second == null) {
        return reserve(first, null, micros, today, ka, ta, kb, tb);
      }
      synchronized (second) {
        return reserve(first, second, micros, today, ka, ta, kb, tb);
      }
    }
  }

  private static Verdict reserve(Account a, Account b, long micros, LocalDate today, Account ka, Account ta,
      Access.Budget kb, Access.Budget tb) {
    a.roll(today);
    if (b != null) {
      b.roll(today);
    }
    if (ka != null && ka.wouldExceedHard(micros)) {
      return new Verdict(false, false, "key", null);
    }
    if (ta != null && ta.wouldExceedHard(micros)) {
      return new Verdict(false, false, "team", null);
    }
    boolean downgrade = (ka != null && kb.downgrade() && ka.softSpent())
        || (ta != null && tb.downgrade() && ta.softSpent());
    a.reserved += micros;
    if (b != null) {
      b.reserved += micros;
    }
    return new Verdict(true, downgrade, null, new Reservation(ka, ta, micros));
  }

  private Account account(String name, Access.Budget budget) {
    return accounts.compute(name, (n, old) -> old != null && old.budget.equals(budget) ? old
        : new Account(budget, old));
  }

  /** Whether a soft budget of the key or its team is spent and says to downgrade (read-only). */
  public boolean shouldDowngrade(Access.ApiKey key, Access.Team team) {
    LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
    return soft(key == null ? null : key.budget(), key == null ? null : "key:" + key.name(), today)
        || soft(team == null ? null : team.budget(), team == null ? null : "team:" + team.name(), today);
  }

  private boolean soft(Access.Budget budget, String name, LocalDate today) {
    if (budget == null || !budget.downgrade() || Double.isNaN(budget.soft())) {
      return false;
    }
    Account a = account(name, budget);
    synchronized (a) {
      a.roll(today);
      return a.softSpent();
    }
  }

  /** What a key or team has spent in the current period (for admin output and tests). */
  public double spentUsd(String account) {
    Account a = accounts.get(account);
    if (a == null) {
      return 0;
    }
    synchronized (a) {
      return a.spent / 1_000_000.0;
    }
  }

  /** A budget's running totals; guarded by its own monitor. */
  static final class Account {
    final Access.Budget budget;
    long spent;
    long reserved;
    LocalDate periodStart;

    Account(Access.Budget budget, Account previous) {
      this.budget = budget;
      if (previous != null) { // a changed budget keeps what was already spent
        synchronized (previous) {
          this.spent = previous.spent;
          this.reserved = previous.reserved;
          this.periodStart = previous.periodStart;
        }
      }
    }

    void roll(LocalDate today) {
      LocalDate start = budget.period() == Access.Period.DAY ? today : today.withDayOfMonth(1);
      if (!start.equals(periodStart)) {
        periodStart = start;
        spent = 0;
      }
    }

    boolean wouldExceedHard(long micros) {
      return !Double.isNaN(budget.hard()) && spent + reserved + micros > Math.round(budget.hard() * 1_000_000);
    }

    boolean softSpent() {
      return !Double.isNaN(budget.soft()) && spent + reserved >= Math.round(budget.soft() * 1_000_000);
    }

    synchronized void settle(long reservedMicros, long actualMicros) {
      reserved -= reservedMicros;
      spent += actualMicros;
    }
  }
}
