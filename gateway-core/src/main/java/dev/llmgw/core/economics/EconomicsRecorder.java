package dev.llmgw.core.economics;

import dev.llmgw.core.log.RequestLog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Feeds finished calls into the {@link Ledger} and counts reported outcomes and repair
 * minutes (labels: configured workflow type and outcome only).
 */
public final class EconomicsRecorder implements dev.llmgw.core.log.RequestLogListener {
  private final Ledger ledger;
  private final CallerUsage usage;
  private final java.util.function.Function<java.time.LocalDate, java.util.List<CallerUsage.Row>> usageReader;
  private final MeterRegistry registry;
  private final Map<String, Counter> outcomes = new ConcurrentHashMap<>();
  private final Map<String, Counter> repairMinutes = new ConcurrentHashMap<>();
  private final Map<String, Counter> corrections = new ConcurrentHashMap<>();

  public EconomicsRecorder(Ledger ledger, MeterRegistry registry) {
    this(ledger, new CallerUsage(java.time.Clock.systemUTC()), null, registry);
  }

  /**
   * @param usage       where every finished request is counted per key and team
   * @param usageReader the totals over every replica from a day on (null: {@code usage}'s own)
   */
  public EconomicsRecorder(Ledger ledger, CallerUsage usage,
      java.util.function.Function<java.time.LocalDate, java.util.List<CallerUsage.Row>> usageReader,
      MeterRegistry registry) {
    this.ledger = ledger;
    this.usage = usage;
    this.usageReader = usageReader == null ? usage::since : usageReader;
    this.registry = registry;
  }

  public Ledger ledger() {
    return ledger;
  }

  @Override
  public void onEnd(RequestLog log) {
    ledger.record(log);
    usage.add(log);
  }

  /** Per-key and per-team totals of all traffic from {@code from} (UTC) on (may wait for a shared store). */
  public java.util.List<CallerUsage.Row> usageSince(java.time.LocalDate from) {
    return usageReader.apply(from);
  }

  /**
   * Records an outcome; false when the workflow is unknown in the caller's namespace. The ledger keeps
   * the last outcome posted (replace); the counters follow it without counting a workflow twice:
   *
   * <ul>
   *   <li>{@code gateway_workflow_outcomes_total}: a workflow's first outcome only;
   *   <li>{@code gateway_workflow_outcome_corrections_total} (labelled with the new outcome): a later post
   *       that changes the outcome or its repair minutes; the same outcome posted again counts nothing;
   *   <li>{@code gateway_workflow_repair_minutes_total}: the increase over the minutes the outcome
   *       replaced (15 then 20 adds 5; 20 then 15 adds nothing: a counter cannot go down).
   * </ul>
   */
  public boolean outcome(String namespace, String id, WorkflowRecord.Outcome outcome, double minutes, double value) {
    java.util.Optional<Ledger.Replaced> known = ledger.outcome(namespace, id, outcome, minutes, value);
    if (known.isEmpty()) {
      return false;
    }
    Ledger.Replaced replaced = known.get();
    String type = replaced.type();
    String o = outcome.name().toLowerCase(Locale.ROOT);
    if (replaced.previous() == null) {
      outcomes.computeIfAbsent(type + '|' + o, k -> Counter.builder("gateway.workflow.outcomes")
          .description("Workflows by their first reported outcome").tags("workflow_type", type, "outcome", o)
          .register(registry)).increment();
    } else if (replaced.previous() != outcome || replaced.previousRepairMinutes() != minutes) {
      corrections.computeIfAbsent(type + '|' + o, k -> Counter.builder("gateway.workflow.outcome.corrections")
          .description("Outcomes posted again with a different outcome or repair minutes (label: the new outcome)")
          .tags("workflow_type", type, "outcome", o).register(registry)).increment();
    }
    double added = minutes - replaced.previousRepairMinutes();
    if (added > 0) {
      repairMinutes.computeIfAbsent(type, t -> Counter.builder("gateway.workflow.repair.minutes")
          .description("Minutes of human repair reported for workflow outputs (increases only)")
          .tags("workflow_type", t).register(registry)).increment(added);
    }
    return true;
  }
}
