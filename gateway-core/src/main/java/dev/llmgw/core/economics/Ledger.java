package dev.llmgw.core.economics;

import dev.llmgw.core.log.RequestLog;
import java.util.List;
import java.util.Optional;

/**
 * The workflow ledger: one running account per workflow id within a caller's namespace, bounded in
 * count and expiring when untouched. {@link WorkflowLedger} keeps it in this process (persisted by the
 * embedded store); {@code RedisLedger} keeps it in Redis, shared by every gateway replica.
 *
 * <p>{@link #record} is called on event loops and never blocks; the reads and {@link #outcome} may wait
 * for a remote store (bounded by its timeout) and are called off the event loop only.
 */
public interface Ledger {
  /** Adds a finished call to its workflow (no-op for calls without a workflow id). */
  void record(RequestLog log);

  /**
   * What recording an outcome replaced, read and written in one step (one Lua script in Redis): the
   * workflow's type, and the outcome reported before (null: none) with its repair minutes (0: none).
   * Metrics count from it the change only, so a re-posted outcome is not counted twice.
   */
  record Replaced(String type, WorkflowRecord.Outcome previous, double previousRepairMinutes) {}

  /**
   * Records a workflow's outcome, replacing any reported before.
   *
   * @return the workflow's type and what the outcome replaced, or empty when the workflow is unknown in
   *     that namespace
   */
  Optional<Replaced> outcome(String namespace, String id, WorkflowRecord.Outcome outcome, double repairMinutes,
      double value);

  Optional<WorkflowRecord.Snapshot> get(String namespace, String id);

  /** Every workflow active since {@code sinceMillis}. */
  List<WorkflowRecord.Snapshot> since(long sinceMillis);

  /**
   * The namespace a caller's workflow ids live in: its team's, else its key's, else the anonymous one
   * (an open gateway). One team can neither read nor write another's workflows, nor add calls to them.
   */
  static String namespace(String keyName, String team) {
    return team != null ? "team:" + team : keyName != null ? "key:" + keyName : "";
  }
}
