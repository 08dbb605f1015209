package dev.llmgw.core.state;

import dev.llmgw.core.access.Budgets;
import dev.llmgw.core.access.RateLimits;
import dev.llmgw.core.config.Access;
import dev.llmgw.core.config.Economics;
import dev.llmgw.core.economics.Ledger;
import dev.llmgw.core.economics.WorkflowLedger;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;

/**
 * Money and limits in this process's memory: token buckets per key, budget accounts per key and team,
 * the Caffeine workflow ledger. Decisions are made on the calling thread (an event loop) under
 * per-account locks and complete at once. Nothing survives a restart; {@link EmbeddedStore} adds that.
 */
public class MemoryStore implements StateStore {
  private final RateLimits rateLimits;
  private final Budgets budgets;
  private final WorkflowLedger ledger;
  private final dev.llmgw.core.economics.CallerUsage usage;

  public MemoryStore(Economics economics, Clock clock) {
    this(economics, clock, (a, p, s) -> { }, null, null);
  }

  MemoryStore(Economics economics, Clock clock, Budgets.Listener budgetListener,
      WorkflowLedger.Listener ledgerListener, java.util.function.Consumer<dev.llmgw.core.economics.CallerUsage.Row>
      usageListener) {
    this.usage = usageListener == null ? new dev.llmgw.core.economics.CallerUsage(clock)
        : new dev.llmgw.core.economics.CallerUsage(clock, usageListener);
    this.rateLimits = new RateLimits(System::nanoTime);
    this.budgets = new Budgets(clock, budgetListener);
    this.ledger = ledgerListener == null ? new WorkflowLedger(economics, clock)
        : new WorkflowLedger(economics, clock, ledgerListener);
  }

  @Override
  public String kind() {
    return "memory";
  }

  Budgets budgets() {
    return budgets;
  }

  WorkflowLedger workflowLedger() {
    return ledger;
  }

  @Override
  public CompletableFuture<Grant> admit(Access.ApiKey key, Access.Team team, long tokens, long maxCostMicros) {
    return CompletableFuture.completedFuture(admitNow(key, team, tokens, maxCostMicros));
  }

  /** The decision, made now on this thread. */
  Grant admitNow(Access.ApiKey key, Access.Team team, long tokens, long maxCostMicros) {
    if (key == null) {
      return Grant.FREE;
    }
    RateLimits.Admission rate = rateLimits.admit(key, tokens);
    if (!rate.allowed()) {
      return new Grant(false, rate, rate.limitedBy(), rate.retryAfterMillis(), null, 0, Settlement.NONE);
    }
    Budgets.Verdict verdict = budgets.admit(key, team, maxCostMicros);
    if (!verdict.allowed()) {
      rate.settleTokens(0, System.nanoTime()); // not served: give the tokens back
      return new Grant(false, rate, null, 0, verdict.exhausted(), 0, Settlement.NONE);
    }
    Budgets.Reservation reservation = verdict.reservation();
    if (reservation == null && rate.tokenBucket() == null) {
      return new Grant(true, rate, null, 0, null, 0, Settlement.NONE);
    }
    return new Grant(true, rate, null, 0, null, reservation == null ? 0 : reservation.micros(), (used, actual) -> {
      rate.settleTokens(used, System.nanoTime());
      if (reservation != null) {
        reservation.settle(actual < 0 ? reservation.micros() : actual);
      }
    });
  }

  @Override
  public boolean shouldDowngrade(Access.ApiKey key, Access.Team team) {
    return budgets.shouldDowngrade(key, team);
  }

  @Override
  public double spentUsd(String account) {
    return budgets.spentUsd(account);
  }

  @Override
  public Ledger ledger() {
    return ledger;
  }

  @Override
  public dev.llmgw.core.economics.CallerUsage usage() {
    return usage;
  }

  @Override
  public java.util.List<dev.llmgw.core.economics.CallerUsage.Row> usageSince(java.time.LocalDate from) {
    return usage.since(from);
  }

  @Override
  public Health health() {
    return new Health(true, false, kind());
  }

  @Override
  public void close() {}
}
