package dev.llmgw.core.economics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.config.Economics;
import dev.llmgw.core.economics.WorkflowRecord.Outcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The outcome counters follow the ledger: a re-posted outcome replaces, it is never counted twice. */
class EconomicsRecorderTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final WorkflowLedger ledger = new WorkflowLedger(
      new Economics(Map.of("support", new Economics.WorkflowType("support", 0.5)), 100, Duration.ofHours(1), null),
      Clock.fixed(Instant.parse("2025-01-01T00:00:00Z"), ZoneOffset.UTC));
  private final EconomicsRecorder recorder = new EconomicsRecorder(ledger, registry);

  private void call(String id) {
    dev.llmgw.core.log.RequestLogBuilder log = new dev.llmgw.core.log.RequestLogBuilder("rid", "POST",
        "/v1/chat/completions", "-", recorder);
    log.workflow(id, "support");
    log.end(dev.llmgw.core.log.Outcome.SERVED);
  }

  private double outcomes(String outcome) {
    Counter c = registry.find("gateway.workflow.outcomes").tags("workflow_type", "support", "outcome", outcome).counter();
    return c == null ? 0 : c.count();
  }

  private double corrections(String outcome) {
    Counter c = registry.find("gateway.workflow.outcome.corrections").tags("workflow_type", "support", "outcome",
        outcome).counter();
    return c == null ? 0 : c.count();
  }

  private double minutes() {
    Counter c = registry.find("gateway.workflow.repair.minutes").tags("workflow_type", "support").counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void theSameOutcomePostedTwiceIsCountedOnce() {
    call("w1");
    assertThat(recorder.outcome("", "w1", Outcome.REPAIRED, 15, Double.NaN)).isTrue();
    assertThat(recorder.outcome("", "w1", Outcome.REPAIRED, 15, Double.NaN)).isTrue();
    assertThat(ledger.get("", "w1").orElseThrow().repairMinutes()).isEqualTo(15.0);
    assertThat(outcomes("repaired")).isEqualTo(1.0);
    assertThat(minutes()).isEqualTo(15.0);
    assertThat(corrections("repaired")).isZero();
  }

  @Test
  void aCorrectionCountsItsChangeOnly() {
    call("w1");
    recorder.outcome("", "w1", Outcome.REPAIRED, 15, Double.NaN);
    recorder.outcome("", "w1", Outcome.REPAIRED, 20, Double.NaN); // +5 minutes
    assertThat(minutes()).isEqualTo(20.0);
    assertThat(outcomes("repaired")).isEqualTo(1.0);
    assertThat(corrections("repaired")).isEqualTo(1.0);
    recorder.outcome("", "w1", Outcome.REPAIRED, 12, Double.NaN); // down: a counter cannot follow
    assertThat(minutes()).isEqualTo(20.0);
    recorder.outcome("", "w1", Outcome.ACCEPTED, 0, 3.0);
    assertThat(outcomes("accepted")).as("not a first outcome").isZero();
    assertThat(corrections("accepted")).isEqualTo(1.0);
    recorder.outcome("", "w1", Outcome.REPAIRED, 18, Double.NaN); // from accepted (0 minutes): +18
    assertThat(minutes()).isEqualTo(38.0);
    assertThat(corrections("repaired")).isEqualTo(3.0);
    assertThat(ledger.get("", "w1").orElseThrow().repairMinutes()).isEqualTo(18.0);
  }

  @Test
  void anUnknownWorkflowCountsNothing() {
    assertThat(recorder.outcome("", "nope", Outcome.ACCEPTED, 0, Double.NaN)).isFalse();
    assertThat(registry.getMeters()).isEmpty();
  }
}
