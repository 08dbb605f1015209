package dev.llmgw.core.economics;

import dev.llmgw.core.log.RequestLog;

/**
 * One workflow's running account: every call made under its id, with retries, fallbacks, tokens and
 * cost (failed attempts included), and the outcome reported for it. Updated by event loops and the
 * outcome endpoint, so every method is synchronized (contention is per workflow, i.e. none).
 */
public final class WorkflowRecord {
  /** How a workflow ended, as reported by the application. */
  public enum Outcome { ACCEPTED, REPAIRED, REJECTED, ABANDONED }

  private final String id;
  private final String type;
  private final long firstMillis;
  private long lastMillis;
  private int calls;
  private int attempts;
  private int retries;
  private int fallbacks;
  private int failedCalls;
  private long promptTokens;
  private long completionTokens;
  private boolean estimated;
  private double cost;
  private boolean costUnknown;
  private double baselineCost;
  private boolean baselineUnknown;
  private String lastTier;
  private Outcome outcome;
  private double repairMinutes;
  private double value = Double.NaN;
  private long outcomeMillis;

  WorkflowRecord(String id, String type, long nowMillis) {
    this.id = id;
    this.type = type;
    this.firstMillis = nowMillis;
    this.lastMillis = nowMillis;
  }

  String type() {
    return type;
  }

  /** A record as it was persisted ({@link #snapshot}), to continue after a restart. */
  static WorkflowRecord restore(Snapshot s) {
    WorkflowRecord r = new WorkflowRecord(s.id(), s.type(), s.firstMillis());
    r.lastMillis = s.lastMillis();
    r.calls = s.calls();
    r.attempts = s.attempts();
    r.retries = s.retries();
    r.fallbacks = s.fallbacks();
    r.failedCalls = s.failedCalls();
    r.promptTokens = s.promptTokens();
    r.completionTokens = s.completionTokens();
    r.estimated = s.estimated();
    r.costUnknown = Double.isNaN(s.cost());
    r.cost = r.costUnknown ? 0 : s.cost();
    r.baselineUnknown = Double.isNaN(s.baselineCost());
    r.baselineCost = r.baselineUnknown ? 0 : s.baselineCost();
    r.lastTier = s.lastTier();
    r.outcome = s.outcome();
    r.repairMinutes = s.repairMinutes();
    r.value = s.value();
    r.outcomeMillis = s.outcomeMillis();
    return r;
  }

  synchronized void add(RequestLog log, long nowMillis) {
    lastMillis = Math.max(lastMillis, nowMillis);
    calls++;
    attempts += log.attempts();
    retries += log.retries();
    fallbacks += log.fallbacks();
    if (!log.outcome().served()) {
      failedCalls++;
    }
    if (log.promptTokens() >= 0) {
      promptTokens += log.promptTokens();
      completionTokens += Math.max(0, log.completionTokens());
      estimated |= log.usageEstimated();
    }
    if (Double.isNaN(log.cost())) {
      costUnknown |= log.promptTokens() >= 0; // tokens without a price: cost unknown, never zero
    } else {
      cost += log.cost();
    }
    if (Double.isNaN(log.baselineCost())) {
      baselineUnknown |= log.promptTokens() >= 0;
    } else {
      baselineCost += log.baselineCost();
    }
    if (log.tier() != null) {
      lastTier = log.tier();
    }
  }

  /** Sets the outcome; returns what it replaced (read under the same lock). */
  synchronized Ledger.Replaced outcome(Outcome o, double minutes, double value, long nowMillis) {
    Ledger.Replaced replaced = new Ledger.Replaced(type, outcome, outcome == null ? 0 : repairMinutes);
    this.outcome = o;
    this.repairMinutes = minutes;
    this.value = value;
    this.outcomeMillis = nowMillis;
    return replaced;
  }

  /** An immutable copy for reports. */
  public synchronized Snapshot snapshot() {
    return new Snapshot(id, type, firstMillis, lastMillis, calls, attempts, retries, fallbacks, failedCalls,
        promptTokens, completionTokens, estimated, costUnknown ? Double.NaN : cost,
        baselineUnknown ? Double.NaN : baselineCost, lastTier, outcome, repairMinutes, value, outcomeMillis);
  }

  /**
   * A point-in-time copy of a workflow's account.
   *
   * @param timeToAnswerMillis-like figures are derived: see {@link #timeToAnswerMillis()}
   */
  public record Snapshot(String id, String type, long firstMillis, long lastMillis, int calls, int attempts,
      int retries, int fallbacks, int failedCalls, long promptTokens, long completionTokens, boolean estimated,
      double cost, double baselineCost, String lastTier, Outcome outcome, double repairMinutes, double value,
      long outcomeMillis) {

    /** First call to the reported outcome (or to the last call while none is reported). */
    public long timeToAnswerMillis() {
      return (outcome != null ? Math.max(outcomeMillis, lastMillis) : lastMillis) - firstMillis;
    }
  }
}
