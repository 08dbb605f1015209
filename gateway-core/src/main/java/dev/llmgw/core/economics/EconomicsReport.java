package dev.llmgw.core.economics;

import dev.llmgw.core.config.Economics;
import dev.llmgw.core.economics.WorkflowRecord.Outcome;
import dev.llmgw.core.economics.WorkflowRecord.Snapshot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The unit-economics report over a set of workflows: per workflow type and per tier, what a workflow
 * costs end to end (model cost of every call, retries and failed attempts included, plus the human
 * repair its output needed), how often it needs repair, how long it takes to reach an answer, what
 * it is worth and the margin, and what routing saved against sending the same tokens to the
 * baseline (strongest) model. See docs/unit-economics.md for every formula, with a worked example
 * that {@code EconomicsReportTest} checks.
 */
public final class EconomicsReport {
  private EconomicsReport() {}

  /**
   * The figures for one group of workflows. Money is US dollars; NaN means "unknown" (a model
   * without a price was used), never zero.
   */
  public record Group(
      String name,
      int workflows,
      int withOutcome,
      Map<String, Integer> outcomes,
      double modelCost,
      double modelCostPerWorkflow,
      double repairMinutes,
      double repairCost,
      double repairCostPerWorkflow,
      double totalCostPerWorkflow,
      double repairRate,
      long timeToAnswerP50Millis,
      long timeToAnswerP95Millis,
      double callsPerWorkflow,
      double retriesPerWorkflow,
      double fallbacksPerWorkflow,
      int workflowsWithValue,
      double value,
      double margin,
      double marginPerWorkflow,
      double baselineCost,
      double savings,
      double savingsRate,
      long promptTokens,
      long completionTokens,
      int estimatedWorkflows,
      int unpricedWorkflows) {}

  /**
   * All traffic of one key or team (workflow or not) over the report's days: requests, model cost,
   * what the same tokens would have cost on the baseline model, and the saving; the requests answered from the
   * response cache and what they would have cost at their model's price (not spent). NaN (null in JSON):
   * unknown, never zero.
   */
  public record Caller(String name, long requests, double cost, long unpricedRequests, double baselineCost,
      double savings, double savingsRate, long cacheHits, double cacheSaved) {}

  /** The whole report. */
  public record Report(long fromMillis, long toMillis, Group total, List<Group> byWorkflowType, List<Group> byTier,
      List<Caller> byKey, List<Caller> byTeam) {}

  public static Report of(List<Snapshot> workflows, Economics economics, long fromMillis, long toMillis) {
    return of(workflows, List.of(), economics, fromMillis, toMillis);
  }

  /** @param usage per-key and per-team daily totals of all traffic ({@link CallerUsage}) over the window's days */
  public static Report of(List<Snapshot> workflows, List<CallerUsage.Row> usage, Economics economics, long fromMillis,
      long toMillis) {
    return new Report(fromMillis, toMillis, group("all", workflows, economics),
        groups(workflows, Snapshot::type, economics),
        groups(workflows, s -> s.lastTier() == null ? "-" : s.lastTier(), economics),
        callers(usage, "key"), callers(usage, "team"));
  }

  private static List<Caller> callers(List<CallerUsage.Row> usage, String kind) {
    Map<String, CallerUsage.Row> sum = new TreeMap<>();
    for (CallerUsage.Row r : usage) {
      if (r.kind().equals(kind)) {
        sum.merge(r.name(), r, (a, b) -> new CallerUsage.Row(a.day(), kind, a.name(), a.requests() + b.requests(),
            a.cost() + b.cost(), a.unpriced() + b.unpriced(), a.comparedCost() + b.comparedCost(),
            a.baselineCost() + b.baselineCost(), a.cacheHits() + b.cacheHits(), a.cacheSaved() + b.cacheSaved()));
      }
    }
    List<Caller> out = new ArrayList<>();
    for (CallerUsage.Row r : sum.values()) {
      double cost = r.unpriced() > 0 ? Double.NaN : r.cost();
      out.add(new Caller(r.name(), r.requests(), cost, r.unpriced(), r.baselineCost(), r.savings(),
          r.baselineCost() > 0 ? r.savings() / r.baselineCost() : Double.NaN, r.cacheHits(), r.cacheSaved()));
    }
    return out;
  }

  private static List<Group> groups(List<Snapshot> all, Function<Snapshot, String> key, Economics economics) {
    Map<String, List<Snapshot>> by = new TreeMap<>();
    for (Snapshot s : all) {
      by.computeIfAbsent(key.apply(s), k -> new ArrayList<>()).add(s);
    }
    List<Group> out = new ArrayList<>();
    by.forEach((name, list) -> out.add(group(name, list, economics)));
    return out;
  }

  static Group group(String name, List<Snapshot> list, Economics economics) {
    int n = list.size();
    int withOutcome = 0;
    int repaired = 0;
    Map<String, Integer> outcomes = new TreeMap<>();
    double modelCost = 0;
    double baseline = 0;
    boolean baselineKnown = true;
    double repairMinutes = 0;
    double repairCost = 0;
    int calls = 0;
    int retries = 0;
    int fallbacks = 0;
    int withValue = 0;
    double value = 0;
    double costOfValued = 0;
    long prompt = 0;
    long completion = 0;
    int estimated = 0;
    int unpriced = 0;
    long[] tta = new long[n];
    for (int i = 0; i < n; i++) {
      Snapshot s = list.get(i);
      tta[i] = s.timeToAnswerMillis();
      calls += s.calls();
      retries += s.retries();
      fallbacks += s.fallbacks();
      prompt += s.promptTokens();
      completion += s.completionTokens();
      estimated += s.estimated() ? 1 : 0;
      double wfRepair = s.repairMinutes() * economics.repairCostPerMinute(s.type());
      if (Double.isNaN(s.cost())) {
        unpriced++;
      } else {
        modelCost += s.cost();
      }
      if (Double.isNaN(s.baselineCost())) {
        baselineKnown = false;
      } else {
        baseline += s.baselineCost();
      }
      if (s.outcome() != null) {
        withOutcome++;
        outcomes.merge(s.outcome().name().toLowerCase(java.util.Locale.ROOT), 1, Integer::sum);
        repaired += s.outcome() == Outcome.REPAIRED ? 1 : 0;
        repairMinutes += s.repairMinutes();
        repairCost += wfRepair;
      }
      if (!Double.isNaN(s.value())) {
        withValue++;
        value += s.value();
        costOfValued += (Double.isNaN(s.cost()) ? Double.NaN : s.cost()) + wfRepair;
      }
    }
    Arrays.sort(tta);
    double knownCost = unpriced > 0 ? Double.NaN : modelCost;
    double perWf = n == 0 ? 0 : knownCost / n;
    double repairPerWf = n == 0 ? 0 : repairCost / n;
    double margin = withValue == 0 ? Double.NaN : value - costOfValued;
    double baselineCost = baselineKnown ? baseline : Double.NaN;
    double savings = baselineCost - knownCost;
    return new Group(name, n, withOutcome, outcomes, knownCost, perWf, repairMinutes, repairCost, repairPerWf,
        perWf + repairPerWf, withOutcome == 0 ? Double.NaN : (double) repaired / withOutcome,
        percentile(tta, 50), percentile(tta, 95), ratio(calls, n), ratio(retries, n), ratio(fallbacks, n),
        withValue, value, margin, withValue == 0 ? Double.NaN : margin / withValue, baselineCost, savings,
        baselineCost > 0 ? savings / baselineCost : Double.NaN, prompt, completion, estimated, unpriced);
  }

  /** Nearest-rank percentile of a sorted array (0 when empty). */
  static long percentile(long[] sorted, int p) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static double ratio(int a, int n) {
    return n == 0 ? 0 : (double) a / n;
  }
}
