package dev.llmgw.core.economics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.llmgw.core.config.Economics;
import dev.llmgw.core.config.Price;
import dev.llmgw.core.economics.WorkflowRecord.Outcome;
import dev.llmgw.core.economics.WorkflowRecord.Snapshot;
import dev.llmgw.core.log.RequestLogBuilder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The worked example of docs/unit-economics.md, number for number: four support-reply workflows on a
 * model priced $1 / $2 per million input / output tokens, against a baseline at $10 / $20.
 */
class EconomicsReportTest {
  static final Price ROUTED = new Price(1, 1, 2);
  static final Price BASELINE = new Price(10, 10, 20);
  static final Economics ECONOMICS = new Economics(
      Map.of("support-reply", new Economics.WorkflowType("support-reply", 0.75)), 1000, Duration.ofHours(24), null);

  static Snapshot wf(String id, int calls, int retries, int fallbacks, long in, long out, long durationMillis,
      Outcome outcome, double minutes, double value) {
    return new Snapshot(id, "support-reply", 0, durationMillis, calls, calls + retries, retries, fallbacks, 0, in, out,
        false, ROUTED.cost(in, 0, out), BASELINE.cost(in, 0, out), "balanced", outcome, minutes, value,
        outcome == null ? 0 : durationMillis);
  }

  static final List<Snapshot> EXAMPLE = List.of(
      wf("W1", 1, 0, 0, 100_000, 50_000, 2_000, Outcome.ACCEPTED, 0, 1.00),
      wf("W2", 3, 1, 1, 200_000, 100_000, 60_000, Outcome.REPAIRED, 10, 5.00),
      wf("W3", 1, 0, 0, 50_000, 25_000, 5_000, Outcome.REJECTED, 0, Double.NaN),
      wf("W4", 1, 0, 0, 100_000, 50_000, 3_000, null, 0, Double.NaN));

  @Test
  void workedExample() {
    EconomicsReport.Group g = EconomicsReport.group("support-reply", EXAMPLE, ECONOMICS);
    assertThat(g.workflows()).isEqualTo(4);
    assertThat(g.withOutcome()).isEqualTo(3);
    assertThat(g.modelCost()).isCloseTo(0.90, within(1e-9));
    assertThat(g.modelCostPerWorkflow()).isCloseTo(0.225, within(1e-9));
    assertThat(g.repairMinutes()).isEqualTo(10);
    assertThat(g.repairCost()).isCloseTo(7.50, within(1e-9));
    assertThat(g.repairCostPerWorkflow()).isCloseTo(1.875, within(1e-9));
    assertThat(g.totalCostPerWorkflow()).isCloseTo(2.10, within(1e-9));
    assertThat(g.repairRate()).isCloseTo(1 / 3.0, within(1e-9));
    assertThat(g.timeToAnswerP50Millis()).isEqualTo(3_000);
    assertThat(g.timeToAnswerP95Millis()).isEqualTo(60_000);
    assertThat(g.callsPerWorkflow()).isEqualTo(1.5);
    assertThat(g.retriesPerWorkflow()).isEqualTo(0.25);
    assertThat(g.fallbacksPerWorkflow()).isEqualTo(0.25);
    assertThat(g.workflowsWithValue()).isEqualTo(2);
    assertThat(g.value()).isCloseTo(6.00, within(1e-9));
    assertThat(g.margin()).isCloseTo(-2.10, within(1e-9));
    assertThat(g.marginPerWorkflow()).isCloseTo(-1.05, within(1e-9));
    assertThat(g.baselineCost()).isCloseTo(9.00, within(1e-9));
    assertThat(g.savings()).isCloseTo(8.10, within(1e-9));
    assertThat(g.savingsRate()).isCloseTo(0.90, within(1e-9));
    assertThat(g.outcomes()).containsEntry("accepted", 1).containsEntry("repaired", 1).containsEntry("rejected", 1);
  }

  @Test
  void anUnpricedModelMakesCostUnknownNotZero() {
    Snapshot unpriced = new Snapshot("U", "support-reply", 0, 1, 1, 1, 0, 0, 0, 10, 10, false, Double.NaN, Double.NaN,
        "trivial", null, 0, Double.NaN, 0);
    EconomicsReport.Group g = EconomicsReport.group("x", List.of(EXAMPLE.get(0), unpriced), ECONOMICS);
    assertThat(g.modelCost()).isNaN();
    assertThat(g.unpricedWorkflows()).isEqualTo(1);
    assertThat(g.savings()).isNaN();
  }

  @Test
  void ledgerAccumulatesCallsIntoWorkflowsAndIsBounded() {
    Clock clock = Clock.fixed(Instant.parse("2026-11-27T10:00:00Z"), ZoneOffset.UTC);
    WorkflowLedger ledger = new WorkflowLedger(new Economics(Map.of(), 2, Duration.ofHours(1), null), clock);
    for (String id : List.of("a", "a", "b")) {
      RequestLogBuilder log = new RequestLogBuilder("rid", "POST", "/v1/chat/completions", "-", ledger::record);
      log.workflow(id, "other").attemptStarted("b", "m", null, 1).attemptStarted("b", "m", null, 2).retried()
          .usage(100, 10, 0, false).cost(0.5, 5);
      log.end(dev.llmgw.core.log.Outcome.SERVED);
    }
    Snapshot a = ledger.get("", "a").orElseThrow();
    assertThat(a.calls()).isEqualTo(2);
    assertThat(a.attempts()).isEqualTo(4);
    assertThat(a.retries()).isEqualTo(2);
    assertThat(a.promptTokens()).isEqualTo(200);
    assertThat(a.cost()).isEqualTo(1.0);
    assertThat(ledger.outcome("", "a", Outcome.REPAIRED, 3, 2.0)).contains(new Ledger.Replaced("other", null, 0));
    assertThat(ledger.outcome("", "a", Outcome.REPAIRED, 4, 2.0))
        .contains(new Ledger.Replaced("other", Outcome.REPAIRED, 3));
    assertThat(ledger.outcome("", "never-seen", Outcome.ACCEPTED, 0, Double.NaN)).isEmpty();
    assertThat(ledger.get(WorkflowLedger.namespace("other-key", null), "a")).as("another key's namespace").isEmpty();
    for (int i = 0; i < 50; i++) {
      new RequestLogBuilder("rid", "POST", "/v1/chat/completions", "-", ledger::record).workflow("w" + i, null)
          .end(dev.llmgw.core.log.Outcome.SERVED);
    }
    ledger.cleanUp();
    assertThat(ledger.size()).isLessThanOrEqualTo(2);
  }
}
