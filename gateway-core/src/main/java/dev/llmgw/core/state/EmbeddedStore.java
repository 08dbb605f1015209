package dev.llmgw.core.state;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.core.config.Access;
import dev.llmgw.core.config.Economics;
import dev.llmgw.core.economics.Ledger;
import dev.llmgw.core.economics.WorkflowRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDate;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default store: decisions as {@link MemoryStore} makes them (on the event loop, no I/O), and
 * every settled spend and every workflow change written to one local file (H2's MVStore) by a writer
 * thread, at most {@code flushInterval} after it happened. At start the file is read back: spend per
 * key and team in the current period, the ledger with its outcomes. Reservations in flight are not
 * written: a restart releases them (their requests ended with the process).
 *
 * <p>What a crash can lose: a {@code kill -9} loses the changes of the last {@code flushInterval}
 * (default 100 ms) plus the write in progress; the file stays consistent (MVStore commits are
 * atomic). A power cut can lose what the OS had not yet put on disk. A failed write is retried at the
 * next flush, counted in {@link #writeErrors()} and logged; nothing is dropped silently.
 *
 * <p>One process per file: a second gateway on the same file is refused at start.
 */
public final class EmbeddedStore implements StateStore {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Object REMOVED = new Object();

  private final Path path;
  private final MVStore file;
  private final MVMap<String, String> budgetMap;
  private final MVMap<String, String> workflowMap;
  private final MVMap<String, String> usageMap;
  /** Usage rows changed since the last flush, by id; their current value is read at the flush. */
  private final Map<dev.llmgw.core.economics.CallerUsage.Key, Boolean> dirtyUsage = new ConcurrentHashMap<>();
  private final MemoryStore memory;
  private final Map<String, String> dirtyBudgets = new ConcurrentHashMap<>();
  private final Map<String, Object> dirtyWorkflows = new ConcurrentHashMap<>();
  private final long flushNanos;
  private final Thread writer;
  private final AtomicLong writeErrors = new AtomicLong();
  private final AtomicLong commits = new AtomicLong();
  private volatile boolean closing;
  private volatile String lastError;

  /**
   * Opens (or creates) the file and reads it back.
   *
   * @throws IllegalStateException with the file and the reason when it cannot be opened: not
   *     writable, corrupt, not a state file, or in use by another process
   */
  public EmbeddedStore(Path path, java.time.Duration flushInterval, Economics economics, Clock clock) {
    this.path = path;
    this.flushNanos = flushInterval.toNanos();
    this.file = open(path);
    try {
      this.budgetMap = file.openMap("budgets");
      this.workflowMap = file.openMap("workflows");
      this.usageMap = file.openMap("usage");
    } catch (MVStoreException | IllegalStateException | ClassCastException e) {
      file.closeImmediately();
      throw new IllegalStateException("state file " + path + " is not a gateway state file or is corrupt ("
          + e.getMessage() + "); move it away to start with empty state", e);
    }
    this.memory = new MemoryStore(economics, clock,
        (account, period, spent) -> dirtyBudgets.put(account, period + " " + spent),
        new dev.llmgw.core.economics.WorkflowLedger.Listener() {
          @Override
          public void changed(String key, WorkflowRecord record) {
            dirtyWorkflows.put(key, record);
          }

          @Override
          public void removed(String key) {
            if (!closing) {
              dirtyWorkflows.put(key, REMOVED);
            }
          }
        }, row -> dirtyUsage.put(new dev.llmgw.core.economics.CallerUsage.Key(row.day(), row.kind(), row.name()),
            Boolean.TRUE));
    restore(economics, clock);
    this.writer = new Thread(this::writeLoop, "gateway-state-writer");
    writer.setDaemon(true);
    writer.start();
  }

  private static MVStore open(Path path) {
    try {
      Path dir = path.toAbsolutePath().getParent();
      if (dir != null) {
        Files.createDirectories(dir);
      }
      if (Files.exists(path) && !Files.isWritable(path)) {
        throw new IllegalStateException("state file " + path + " is not writable (check its owner and mode)");
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot create the directory of state file " + path + ": " + e, e);
    }
    try {
      return new MVStore.Builder().fileName(path.toString()).autoCommitDisabled().open();
    } catch (MVStoreException e) {
      String m = String.valueOf(e.getMessage());
      String why = m.contains("locked") ? "it is in use by another gateway process (one process per file)"
          : m.contains("ermission") || m.contains("read only") || m.contains("Read-only")
          ? "it cannot be written (check its owner and mode)"
          : "it is corrupt or not a gateway state file; move it away to start with empty state";
      throw new IllegalStateException("cannot open state file " + path + ": " + why + " (" + firstLine(m) + ")", e);
    }
  }

  private static String firstLine(String m) {
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  private void restore(Economics economics, Clock clock) {
    for (Map.Entry<String, String> e : budgetMap.entrySet()) {
      String[] v = e.getValue().split(" ");
      try {
        memory.budgets().restore(e.getKey(), LocalDate.parse(v[0]), Long.parseLong(v[1]));
      } catch (RuntimeException bad) {
        throw new IllegalStateException("state file " + path + ": budget entry '" + e.getKey()
            + "' is unreadable (" + bad.getMessage() + "); move the file away to start with empty state", bad);
      }
    }
    for (Map.Entry<String, String> e : usageMap.entrySet()) {
      try {
        String[] k = e.getKey().split("\\|", 3);
        String[] v = e.getValue().split(" ");
        memory.usage().add(new dev.llmgw.core.economics.CallerUsage.Row(LocalDate.parse(k[0]), k[1], k[2],
            Long.parseLong(v[0]), Double.parseDouble(v[1]), Long.parseLong(v[2]), Double.parseDouble(v[3]),
            Double.parseDouble(v[4]), v.length > 6 ? Long.parseLong(v[5]) : 0, // older files: no cache figures
            v.length > 6 ? Double.parseDouble(v[6]) : 0));
      } catch (RuntimeException bad) {
        throw new IllegalStateException("state file " + path + ": usage entry '" + e.getKey() + "' is unreadable ("
            + bad.getMessage() + "); move the file away to start with empty state", bad);
      }
    }
    dirtyUsage.clear(); // read back, not changed
    long oldest = clock.millis() - economics.expireAfter().toMillis();
    int kept = 0;
    for (Map.Entry<String, String> e : workflowMap.entrySet()) {
      WorkflowRecord.Snapshot s;
      try {
        s = JSON.readValue(e.getValue(), WorkflowRecord.Snapshot.class);
      } catch (IOException bad) {
        throw new IllegalStateException("state file " + path + ": workflow entry is unreadable ("
            + bad.getMessage() + "); move the file away to start with empty state", bad);
      }
      if (Math.max(s.lastMillis(), s.outcomeMillis()) >= oldest) {
        memory.workflowLedger().restore(e.getKey(), s);
        kept++;
      } else {
        dirtyWorkflows.put(e.getKey(), REMOVED);
      }
    }
    LOG.info("state: embedded store {} opened: {} budget accounts, {} workflows", path, budgetMap.size(), kept);
  }

  private static String usageText(dev.llmgw.core.economics.CallerUsage.Row r) {
    return r.requests() + " " + r.cost() + " " + r.unpriced() + " " + r.comparedCost() + " " + r.baselineCost() + " "
        + r.cacheHits() + " " + r.cacheSaved();
  }

  private void writeLoop() {
    while (!closing) {
      LockSupport.parkNanos(flushNanos);
      flush();
    }
  }

  /** Writes every pending change and commits; retried at the next flush when it fails. */
  public synchronized void flush() {
    if (dirtyBudgets.isEmpty() && dirtyWorkflows.isEmpty() && dirtyUsage.isEmpty()) {
      return;
    }
    Map<String, String> budgets = drain(dirtyBudgets);
    Map<dev.llmgw.core.economics.CallerUsage.Key, Boolean> usage = drain(dirtyUsage);
    Map<String, Object> workflows = drain(dirtyWorkflows);
    try {
      budgets.forEach(budgetMap::put);
      usage.keySet().forEach(k -> { // the row as it is now: a change racing this flush is written by the next
        dev.llmgw.core.economics.CallerUsage.Row row = memory.usage().get(k);
        if (row != null) {
          usageMap.put(k.id(), usageText(row));
        }
      });
      for (Map.Entry<String, Object> e : workflows.entrySet()) {
        if (e.getValue() == REMOVED) {
          workflowMap.remove(e.getKey());
        } else {
          workflowMap.put(e.getKey(), JSON.writeValueAsString(((WorkflowRecord) e.getValue()).snapshot()));
        }
      }
      file.commit();
      commits.incrementAndGet();
      lastError = null;
    } catch (RuntimeException | IOException e) {
      writeErrors.incrementAndGet();
      lastError = e.getMessage();
      LOG.error("state: writing {} failed; {} budget and {} workflow changes kept for the next attempt", path,
          budgets.size(), workflows.size(), e);
      budgets.forEach(dirtyBudgets::putIfAbsent); // a newer value, if any, wins
      usage.forEach(dirtyUsage::putIfAbsent);
      workflows.forEach(dirtyWorkflows::putIfAbsent);
    }
  }

  private static <K, V> Map<K, V> drain(Map<K, V> dirty) {
    Map<K, V> out = new java.util.HashMap<>();
    for (K k : dirty.keySet()) {
      V v = dirty.remove(k);
      if (v != null) {
        out.put(k, v);
      }
    }
    return out;
  }

  /** Changes not yet on disk (a gauge; 0 once the writer caught up). */
  public int pendingWrites() {
    return dirtyBudgets.size() + dirtyWorkflows.size() + dirtyUsage.size();
  }

  public long writeErrors() {
    return writeErrors.get();
  }

  public long commits() {
    return commits.get();
  }

  @Override
  public String kind() {
    return "embedded";
  }

  @Override
  public CompletableFuture<Grant> admit(Access.ApiKey key, Access.Team team, long tokens, long maxCostMicros) {
    return memory.admit(key, team, tokens, maxCostMicros);
  }

  @Override
  public boolean shouldDowngrade(Access.ApiKey key, Access.Team team) {
    return memory.shouldDowngrade(key, team);
  }

  @Override
  public double spentUsd(String account) {
    return memory.spentUsd(account);
  }

  @Override
  public Ledger ledger() {
    return memory.ledger();
  }

  @Override
  public dev.llmgw.core.economics.CallerUsage usage() {
    return memory.usage();
  }

  @Override
  public java.util.List<dev.llmgw.core.economics.CallerUsage.Row> usageSince(java.time.LocalDate from) {
    return memory.usageSince(from);
  }

  @Override
  public Health health() {
    String e = lastError;
    return e == null ? new Health(true, false, "embedded " + path.getFileName())
        : new Health(true, true, "embedded " + path.getFileName() + ": last write failed (" + e + ")");
  }

  /** Writes what is pending and closes the file. */
  @Override
  public void close() {
    if (closing) {
      return;
    }
    closing = true;
    LockSupport.unpark(writer);
    try {
      writer.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    flush();
    try {
      file.close();
    } catch (MVStoreException e) {
      LOG.error("state: closing {} failed", path, e);
      throw new UncheckedIOException(new IOException("closing state file " + path, e));
    }
  }
}
