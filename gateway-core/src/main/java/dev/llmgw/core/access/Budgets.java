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
  /** Hears every settled spend (on the settling thread: must not block), to persist it. */
  public interface Listener {
    void spent(String account, LocalDate periodStart, long spentMicros);
  }

  private final Map<String, Account> accounts = new ConcurrentHashMap<>();
  private final Map<String, Account.Saved> restored = new ConcurrentHashMap<>();
  private final Clock clock;
  private final Listener listener;

  public Budgets(Clock clock, Listener listener) {
    this.clock = clock;
    this.listener = listener;
  }

  /** Puts back what an account had spent in a period, read from the store at start (before serving). */
  public void restore(String account, LocalDate periodStart, long spentMicros) {
    restored.put(account, new Account.Saved(periodStart, spentMicros));
  }

  /** What admission decided. */
  public record Verdict(boolean allowed, boolean downgrade, String exhausted, Reservation reservation) {}

  /** Money reserved on up to two accounts; settle exactly once. */
  public final class Reservation {
    private final Account key;
    private final Account team;
    private final long micros;
    private boolean settled;

    Reservation(Account key, Account team, long micros) {
      this.key = key;
      this.team = team;
      this.micros = micros;
    }

    /** What was reserved, in micro-dollars. */
    public long micros() {
      return micros;
    }

    /** Replaces the reservation with the real cost in micro-dollars (0 releases it). */
    public synchronized void settle(long actualMicros) {
      if (settled) {
        return;
      }
      settled = true;
      if (key != null) {
        settleOn(key, actualMicros);
      }
      if (team != null) {
        settleOn(team, actualMicros);
      }
    }

    private void settleOn(Account a, long actual) {
      synchronized (a) { // heard in the order the account changed: a persisted figure never goes back
        long spent = a.settle(micros, actual);
        listener.spent(a.name, a.periodStart, spent);
      }
    }
  }

  /**
   * Reserves {@code micros} (micro-dollars) for a request of {@code key}.
   *
   * @return not allowed (with the exhausted budget's name) when a hard budget would be exceeded;
   *     {@code downgrade} when a soft budget is spent and the key downgrades
   */
  public Verdict admit(Access.ApiKey key, Access.Team team, long micros) {
    Access.Budget kb = key == null ? null : key.budget();
    Access.Budget tb = team == null ? null : team.budget();
    if (kb == null && tb == null) {
      return new Verdict(true, false, null, null);
    }
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

  private Verdict reserve(Account a, Account b, long micros, LocalDate today, Account ka, Account ta,
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
        : new Account(n, budget, old, old == null ? restored.remove(n) : null));
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
      Account.Saved saved = restored.get(account); // read back at start, not used since
      return saved == null ? 0 : saved.spent() / 1_000_000.0;
    }
    synchronized (a) {
      return a.spent / 1_000_000.0;
    }
  }

  /** A budget's running totals; guarded by its own monitor. */
  static final class Account {
    /** What the store kept of an account: the period it was in and what it had spent in it. */
    record Saved(LocalDate periodStart, long spent) {}

    final String name;
    final Access.Budget budget;
    long spent;
    long reserved;
    LocalDate periodStart;

    Account(String name, Access.Budget budget, Account previous, Saved saved) {
      this.name = name;
      this.budget = budget;
      if (previous != null) { // a changed budget keeps what was already spent
        synchronized (previous) {
          this.spent = previous.spent;
          this.reserved = previous.reserved;
          this.periodStart = previous.periodStart;
        }
      } else if (saved != null) { // rolled over by roll() if the period has passed since
        this.spent = saved.spent();
        this.periodStart = saved.periodStart();
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

    /** @return what is spent in the period afterwards */
    synchronized long settle(long reservedMicros, long actualMicros) {
      reserved -= reservedMicros;
      spent += actualMicros;
      return spent;
    }
  }
}
