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
 * The bounded, expiring ledger of workflows in this process: one {@link WorkflowRecord} per workflow
 * id, kept in a Caffeine cache ({@code maximumSize} and {@code expireAfterAccess} from config), so
 * memory stays bounded whatever ids clients send. A {@link Listener} (the embedded store) hears every
 * change and eviction to persist them off the event loop. Thread-safe.
 */
public final class WorkflowLedger implements Ledger {
  /** Hears changed and removed workflows (called on the thread that changed them: must not block). */
  public interface Listener {
    void changed(String key, WorkflowRecord record);

    void removed(String key);
  }

  private static final Listener NONE = new Listener() {
    @Override
    public void changed(String key, WorkflowRecord record) {}

    @Override
    public void removed(String key) {}
  };

  /** Longest workflow id kept; longer ones are cut (ids are never metric labels). */
  public static final int MAX_ID_LENGTH = 128;

  private final Cache<String, WorkflowRecord> workflows;
  private final Clock clock;

  private final Listener listener;

  public WorkflowLedger(Economics economics, Clock clock) {
    this(economics, clock, NONE);
  }

  public WorkflowLedger(Economics economics, Clock clock, Listener listener) {
    this.clock = clock;
    this.listener = listener;
    this.workflows = Caffeine.newBuilder()
        .maximumSize(economics.maxWorkflows())
        .expireAfterAccess(economics.expireAfter())
        .executor(Runnable::run) // evictions heard at once, on the caller's thread
        .removalListener((String k, WorkflowRecord v, com.github.benmanes.caffeine.cache.RemovalCause cause) -> {
          if (k != null && cause != com.github.benmanes.caffeine.cache.RemovalCause.REPLACED) {
            listener.removed(k);
          }
        })
        .build();
  }

  /** @see Ledger#namespace */
  public static String namespace(String keyName, String team) {
    return Ledger.namespace(keyName, team);
  }

  /** The ledger key of a workflow: its namespace and id. */
  public static String key(String namespace, String id) {
    return namespace + '\u0000' + id;
  }

  @Override
  public void record(RequestLog log) {
    if (log.workflowId() == null) {
      return;
    }
    long now = clock.millis();
    String type = log.workflowType() == null ? Economics.OTHER : log.workflowType();
    String key = key(namespace(log.keyName(), log.team()), log.workflowId());
    WorkflowRecord r = workflows.get(key, k -> new WorkflowRecord(log.workflowId(), type, now));
    r.add(log, now);
    listener.changed(key, r);
  }

  /** Puts back a workflow read from the store at start (kept only if still within the expiry). */
  public void restore(String key, WorkflowRecord.Snapshot s) {
    workflows.put(key, WorkflowRecord.restore(s));
  }

  @Override
  public Optional<Replaced> outcome(String namespace, String id, WorkflowRecord.Outcome outcome, double repairMinutes,
      double value) {
    String key = key(namespace, id);
    WorkflowRecord r = workflows.getIfPresent(key);
    if (r == null) {
      return Optional.empty();
    }
    Replaced replaced = r.outcome(outcome, repairMinutes, value, clock.millis());
    listener.changed(key, r);
    return Optional.of(replaced);
  }

  @Override
  public Optional<WorkflowRecord.Snapshot> get(String namespace, String id) {
    return Optional.ofNullable(workflows.getIfPresent(key(namespace, id))).map(WorkflowRecord::snapshot);
  }

  @Override
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
