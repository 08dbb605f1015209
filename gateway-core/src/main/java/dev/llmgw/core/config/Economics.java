package dev.llmgw.core.config;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Unit economics: the workflow types the gateway accounts for, the labour cost of repairing their
 * output, and the bounds of the in-memory workflow ledger.
 *
 * @param workflowTypes  the bounded set of workflow types (anything else is counted as {@code other})
 * @param maxWorkflows   most workflows kept in the ledger (least recently used go first)
 * @param expireAfter    a workflow untouched this long leaves the ledger
 * @param baselineModel  the alias whose prices define "everything on the strongest model" for the
 *                       savings figure, or null to use the high-stakes tier's primary model
 */
public record Economics(Map<String, WorkflowType> workflowTypes, int maxWorkflows, Duration expireAfter,
    String baselineModel) {

  /** The type every unconfigured workflow type is counted as. */
  public static final String OTHER = "other";

  public Economics {
    workflowTypes = Collections.unmodifiableMap(new LinkedHashMap<>(workflowTypes));
  }

  public static Economics defaults() {
    return new Economics(Map.of(), 100_000, Duration.ofHours(24), null);
  }

  /** A configured workflow type's name, or {@link #OTHER}; null stays null (no workflow). */
  public String typeOf(String requested) {
    if (requested == null) {
      return null;
    }
    return workflowTypes.containsKey(requested) ? requested : OTHER;
  }

  /** Labour cost per minute of human repair for a type (0 for {@code other}). */
  public double repairCostPerMinute(String type) {
    WorkflowType t = workflowTypes.get(type);
    return t == null ? 0 : t.repairCostPerMinute();
  }

  /**
   * @param name                the type's name (a metric label)
   * @param repairCostPerMinute US dollars per minute of human repair
   */
  public record WorkflowType(String name, double repairCostPerMinute) {}
}
