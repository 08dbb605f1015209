package dev.llmgw.core.state;

import dev.llmgw.core.config.Economics;
import dev.llmgw.core.economics.Ledger;
import dev.llmgw.core.economics.WorkflowLedger;
import dev.llmgw.core.economics.WorkflowRecord;
import dev.llmgw.core.log.RequestLog;
import io.lettuce.core.Range;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The workflow ledger in Redis: one hash per workflow ({@code <prefix>wf:<namespace>\0<id>}) updated by
 * {@code ledger-record.lua} once per call, and a sorted set of workflows by last activity that the
 * report walks and that bounds the ledger (count and expiry as configured). Every replica adds to and
 * reads the same workflows. Records are written asynchronously from the event loop; reads and
 * outcomes wait (bounded) and run off the loop.
 */
final class RedisLedger implements Ledger {
  private final RedisLink link;
  private final RedisAsyncCommands<String, String> redis;
  private final String prefix;
  private final String index;
  private final Economics economics;
  private final RedisScript recordScript = RedisScript.load("ledger-record.lua");
  private final RedisScript outcomeScript = RedisScript.load("ledger-outcome.lua");
  private final String instance = UUID.randomUUID().toString().substring(0, 8);
  private final java.util.concurrent.atomic.AtomicLong sequence = new java.util.concurrent.atomic.AtomicLong();

  RedisLedger(RedisLink link, String prefix, Economics economics) {
    this.link = link;
    this.redis = link.async();
    this.prefix = prefix;
    this.index = prefix + "wf-index";
    this.economics = economics;
  }

  private String key(String namespace, String id) {
    return prefix + "wf:" + WorkflowLedger.key(namespace, id);
  }

  @Override
  public void record(RequestLog log) {
    if (log.workflowId() == null) {
      return;
    }
    String type = log.workflowType() == null ? Economics.OTHER : log.workflowType();
    String[] keys = {key(Ledger.namespace(log.keyName(), log.team()), log.workflowId()), index,
        prefix + "wf-done:" + instance + "-" + sequence.incrementAndGet()};
    String[] args = {log.workflowId(), type, Integer.toString(log.attempts()), Integer.toString(log.retries()),
        Integer.toString(log.fallbacks()), log.outcome().served() ? "0" : "1", Long.toString(log.promptTokens()),
        Long.toString(Math.max(0, log.completionTokens())), log.usageEstimated() ? "1" : "0",
        Double.isNaN(log.cost()) ? "" : Double.toString(log.cost()),
        Double.isNaN(log.baselineCost()) ? "" : Double.toString(log.baselineCost()), log.tier() == null ? "" : log.tier(),
        Long.toString(economics.expireAfter().toMillis()), Integer.toString(economics.maxWorkflows())};
    // the record runs once (its marker key): a replay after a lost answer adds nothing
    link.send(() -> recordScript.run(redis, ScriptOutputType.INTEGER, keys, args), "ledger");
  }

  @Override
  public Optional<Replaced> outcome(String namespace, String id, WorkflowRecord.Outcome outcome, double repairMinutes,
      double value) {
    String[] keys = {key(namespace, id), index};
    String[] args = {outcome.name().toLowerCase(Locale.ROOT), Double.toString(repairMinutes),
        Double.isNaN(value) ? "" : Double.toString(value), Long.toString(economics.expireAfter().toMillis())};
    List<Object> r = await(outcomeScript.<List<Object>>run(redis, ScriptOutputType.MULTI, keys, args),
        "ledger outcome");
    if (r == null || r.isEmpty()) {
      return Optional.empty();
    }
    String previous = (String) r.get(1);
    String minutes = (String) r.get(2);
    return Optional.of(new Replaced((String) r.get(0),
        previous.isEmpty() ? null : WorkflowRecord.Outcome.valueOf(previous.toUpperCase(Locale.ROOT)),
        previous.isEmpty() || minutes.isEmpty() ? 0 : Double.parseDouble(minutes)));
  }

  @Override
  public Optional<WorkflowRecord.Snapshot> get(String namespace, String id) {
    return Optional.ofNullable(snapshot(await(redis.hgetall(key(namespace, id)), "ledger read")));
  }

  @Override
  public List<WorkflowRecord.Snapshot> since(long sinceMillis) {
    List<String> keys = await(redis.zrangebyscore(index, Range.create(sinceMillis, Double.POSITIVE_INFINITY)),
        "ledger index");
    List<RedisFuture<Map<String, String>>> reads = new ArrayList<>(keys.size());
    for (String k : keys) {
      reads.add(redis.hgetall(k)); // pipelined: Lettuce sends them without waiting for each answer
    }
    List<WorkflowRecord.Snapshot> out = new ArrayList<>(keys.size());
    for (RedisFuture<Map<String, String>> r : reads) {
      WorkflowRecord.Snapshot s = snapshot(await(r, "ledger read"));
      if (s != null) {
        out.add(s);
      }
    }
    return out;
  }

  private <T> T await(CompletionStage<T> stage, String what) {
    try {
      return stage.toCompletableFuture().get(link.waitMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StateUnavailableException("interrupted");
    } catch (ExecutionException | TimeoutException e) {
      link.failed(what, e);
      throw new StateUnavailableException("Redis: " + what + " failed");
    }
  }

  private static WorkflowRecord.Snapshot snapshot(Map<String, String> h) {
    if (h == null || h.isEmpty() || !h.containsKey("id")) {
      return null;
    }
    String outcome = h.get("outcome");
    String value = h.get("value");
    return new WorkflowRecord.Snapshot(h.get("id"), h.get("type"), num(h, "first"), num(h, "last"),
        (int) num(h, "calls"), (int) num(h, "attempts"), (int) num(h, "retries"), (int) num(h, "fallbacks"),
        (int) num(h, "failed"), num(h, "prompt"), num(h, "completion"), "1".equals(h.get("estimated")),
        "1".equals(h.get("costUnknown")) ? Double.NaN : dbl(h, "cost"),
        "1".equals(h.get("baselineUnknown")) ? Double.NaN : dbl(h, "baseline"), h.get("tier"),
        outcome == null ? null : WorkflowRecord.Outcome.valueOf(outcome.toUpperCase(Locale.ROOT)),
        dbl(h, "repair"), value == null || value.isEmpty() ? Double.NaN : Double.parseDouble(value),
        num(h, "outcomeAt"));
  }

  private static long num(Map<String, String> h, String f) {
    String v = h.get(f);
    return v == null ? 0 : Long.parseLong(v);
  }

  private static double dbl(Map<String, String> h, String f) {
    String v = h.get(f);
    return v == null ? 0 : Double.parseDouble(v);
  }

}
