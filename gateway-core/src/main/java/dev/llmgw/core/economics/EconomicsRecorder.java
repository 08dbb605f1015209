package dev.llmgw.core.economics;

import dev.llmgw.core.exchange.ExchangeEvents;
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
public final class EconomicsRecorder implements ExchangeEvents {
  private final Ledger ledger;
  private final MeterRegistry registry;
  private final Map<String, Counter> outcomes = new ConcurrentHashMap<>();
  private final Map<String, Counter> repairMinutes = new ConcurrentHashMap<>();

  public EconomicsRecorder(Ledger ledger, MeterRegistry registry) {
    this.ledger = ledger;
    this.registry = registry;
  }

  public Ledger ledger() {
    return ledger;
  }

  @Override
  public void completed(RequestLog log) {
    ledger.record(log);
  }

  /** Records an outcome; false when the workflow is unknown in the caller's namespace. */
  public boolean outcome(String namespace, String id, WorkflowRecord.Outcome outcome, double minutes, double value) {
    java.util.Optional<String> known = ledger.outcome(namespace, id, outcome, minutes, value);
    if (known.isEmpty()) {
      return false;
    }
    String type = known.get();
    String o = outcome.name().toLowerCase(Locale.ROOT);
    outcomes.computeIfAbsent(type + '|' + o, k -> Counter.builder("gateway.workflow.outcomes")
        .description("Workflow outcomes reported by applications").tags("workflow_type", type, "outcome", o)
        .register(registry)).increment();
    if (minutes > 0) {
      repairMinutes.computeIfAbsent(type, t -> Counter.builder("gateway.workflow.repair.minutes")
          .description("Minutes of human repair reported for workflow outputs").tags("workflow_type", t)
          .register(registry)).increment(minutes);
    }
    return true;
  }
}
