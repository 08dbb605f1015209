package dev.llmgw.core.economics;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.llmgw.core.config.Economics;
import dev.llmgw.core.log.RequestLog;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The bounded, expiring ledger of workflows: one {@link WorkflowRecord} per workflow id, kept in a
 * Caffeine cache ({@code maximumSize} and {@code expireAfterAccess} from config), so memory stays
 * bounded whatever ids clients send. Thread-safe.
 */
public final class WorkflowLedger {
  /** Longest workflow id kept; longer ones are cut (ids are never metric labels). */
  public static final int MAX_ID_LENGTH = 128;

  private final Cache<String, WorkflowRecord> workflows;
  private final Clock clock;

  public WorkflowLedger(Economics economics, Clock clock) {
    this.clock = clock;
    this.workflows = Caffeine.newBuilder()
        .maximumSize(economics.maxWorkflows())
        .expireAfterAccess(economics.expireAfter())
        .build();
  }

  /**
   * The namespace a caller's workflow ids live in: its team's, else its key's, else the anonymous one
   * (an open gateway). One team can neither read nor write another's workflows, nor add calls to them.
   */
  public static String namespace(String keyName, String team) {
    return team != null ? "team:" + team : keyName != null ? "key:" + keyName : "";
  }

  private static String key(String namespace, String id) {
    return namespace + '\u0000' + id;
  }

  /** Adds a finished call to its workflow (no-op for calls without a workflow id). */
  public void record(RequestLog log) {
    if (log.workflowId == null) {
      return;
    }
    long now = clock.millis();
    String type = log.workflowType == null ? Economics.OTHER : log.workflowType;
    workflows.get(key(namespace(log.keyName, log.team), log.workflowId),
        k -> new WorkflowRecord(log.workflowId, type, now)).add(log, now);
  }

  /**
   * Records a workflow's outcome.
   *
   * @return false when the workflow is unknown in that namespace (never seen, expired, or another's)
   */
  public boolean outcome(String namespace, String id, WorkflowRecord.Outcome outcome, double repairMinutes,
      double value) {
    WorkflowRecord r = workflows.getIfPresent(key(namespace, id));
    if (r == null) {
      return false;
    }
    r.outcome(outcome, repairMinutes, value, clock.millis());
    return true;
  }

  public Optional<WorkflowRecord.Snapshot> get(String namespace, String id) {
    return Optional.ofNullable(workflows.getIfPresent(key(namespace, id))).map(WorkflowRecord::snapshot);
  }

  /** Every workflow active since {@code sinceMillis}. */
  public List<WorkflowRecord.Snapshot> since(long sinceMillis) {
    List<WorkflowRecord.Snapshot> out = new ArrayList<>();
    for (WorkflowRecord r : workflows.asMap().values()) {
      WorkflowRecord.Snapshot s = r.snapshot();
      if (s.lastMillis() >= sinceMillis || s.outcomeMillis() >= sinceMillis) {
        out.add(s);
      }
    }
    return out;
  }

  /** Runs pending evictions now (tests; Caffeine otherwise does it during normal use). */
  public void cleanUp() {
    workflows.cleanUp();
  }

  public long size() {
    return workflows.estimatedSize();
  }
}
