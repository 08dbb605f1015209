package dev.llmgw.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The labelled routing evaluation set (shared/eval): rows as requests to model {@code auto}, and the
 * numbers we report for a policy over them. Prices per tier are illustrative (trivial 0 on the local
 * model, balanced 0.6, high-stakes 10, per 1M tokens); the saving assumes every request costs the same
 * number of tokens, against sending everything to high-stakes.
 */
final class EvalSet {

  static final Path DEV = Path.of("../../shared/eval/routing-dev.jsonl");
  static final Path TEST = Path.of("../../shared/eval/routing-test.jsonl");
  static final Path DEV_EXTRA = Path.of("../../shared/eval/routing-dev-extra.jsonl");
  /** Requests written for this project (not from shared/eval), see EvalSetTest. */
  static final Path WRITTEN = Path.of("src/test/resources/eval/written-batch.jsonl");
  /** More requests written for this project, never tuned on, see EvalSetTest. */
  static final Path WRITTEN_CHECK = Path.of("src/test/resources/eval/written-check-batch.jsonl");
  static final List<String> TIERS = List.of("trivial", "balanced", "high-stakes");
  static final double[] PRICE = {0, 0.6, 10};
  static final ObjectMapper JSON = new ObjectMapper();

  /** One labelled request. */
  record Row(String id, String source, String label, boolean borderline, JsonNode body, int chars) {}

  /** Counts for one policy over one set of rows. */
  static final class Report {
    final int[][] confusion = new int[3][3];
    final List<String> underRoutedHighStakes = new ArrayList<>();
    final Map<String, int[]> bySource = new TreeMap<>();
    final Map<String, int[]> byLength = new TreeMap<>();
    int rows;
    int below;
    int above;
    int hsBorderlineMissed;
    int hsBorderline;
    double cost;
    double tokenCost;
    double tokenCostAllHigh;

    int count(int label) {
      return confusion[label][0] + confusion[label][1] + confusion[label][2];
    }

    double highStakesRecall() {
      return (double) confusion[2][2] / count(2);
    }

    double highStakesRecallNonBorderline() {
      int n = count(2) - hsBorderline;
      return (double) (n - (underRoutedHighStakes.size() - hsBorderlineMissed)) / n;
    }

    double shareBelowLabel() {
      return (double) below / rows;
    }

    double shareAboveLabel() {
      return (double) above / rows;
    }

    double trivialKeptTrivial() {
      return (double) confusion[0][0] / count(0);
    }

    double saving() {
      return 1 - cost / (rows * PRICE[2]);
    }

    double tokenWeightedSaving() {
      return 1 - tokenCost / tokenCostAllHigh;
    }

    String format(String title) {
      StringBuilder sb = new StringBuilder("== " + title + " (" + rows + " rows) ==\n");
      sb.append(String.format(Locale.ROOT, "%-14s %9s %9s %12s%n", "label \\ routed", "trivial",
          "balanced", "high-stakes"));
      for (int l = 0; l < 3; l++) {
        sb.append(String.format(Locale.ROOT, "%-14s %9d %9d %12d%n", TIERS.get(l),
            confusion[l][0], confusion[l][1], confusion[l][2]));
      }
      sb.append(String.format(Locale.ROOT,
          "high-stakes recall %.3f (%d/%d); non-borderline %.3f%n", highStakesRecall(),
          confusion[2][2], count(2), highStakesRecallNonBorderline()));
      sb.append(String.format(Locale.ROOT, "routed below label %.3f (%d/%d); above label %.3f%n",
          shareBelowLabel(), below, rows, shareAboveLabel()));
      sb.append(String.format(Locale.ROOT, "trivial kept on trivial %.3f (%d/%d)%n",
          trivialKeptTrivial(), confusion[0][0], count(0)));
      sb.append(String.format(Locale.ROOT,
          "cost saving vs all high-stakes %.3f (per request); %.3f (prompt-token weighted)%n",
          saving(), tokenWeightedSaving()));
      sb.append(breakdown("per source [rows, below label, above label, high-stakes missed]",
          bySource));
      sb.append(breakdown("per prompt length (chars) [rows, below, above, high-stakes missed]",
          byLength));
      return sb.toString();
    }

    private static String breakdown(String title, Map<String, int[]> m) {
      StringBuilder sb = new StringBuilder(title + ":\n");
      m.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %-34s %4d %4d %4d %4d%n", k,
          v[0], v[1], v[2], v[3])));
      return sb.toString();
    }
  }

  private EvalSet() {}

  static List<Row> load(Path file) {
    try {
      List<Row> rows = new ArrayList<>();
      for (String line : Files.readAllLines(file)) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode r = JSON.readTree(line);
        ObjectNode body = JSON.createObjectNode().put("model", "auto");
        body.set("messages", r.get("messages"));
        if (r.has("tools")) {
          body.set("tools", r.get("tools"));
        }
        int chars = 0;
        for (JsonNode m : r.get("messages")) {
          chars += m.path("content").asText("").length();
        }
        rows.add(new Row(r.get("id").asText(), r.path("source").asText("-"), r.get("label").asText(),
            r.path("why").asText("").startsWith("borderline:"), body, chars));
      }
      return rows;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Report run(RoutingPolicy policy, List<Row> rows) {
    Report rep = new Report();
    for (Row row : rows) {
      RequestFeatures f = FeatureExtractor.extract(row.body(), h -> null, null, null);
      RouteDecision d = policy.decideBlocking(f, null, "high-stakes");
      int label = TIERS.indexOf(row.label());
      int routed = TIERS.indexOf(d.tier());
      rep.rows++;
      rep.confusion[label][routed]++;
      rep.cost += PRICE[routed];
      int tokens = f.promptTokens();
      rep.tokenCost += PRICE[routed] * tokens;
      rep.tokenCostAllHigh += PRICE[2] * tokens;
      boolean missed = label == 2 && routed < 2;
      if (routed < label) {
        rep.below++;
      } else if (routed > label) {
        rep.above++;
      }
      if (label == 2 && row.borderline()) {
        rep.hsBorderline++;
      }
      if (missed) {
        rep.underRoutedHighStakes.add(row.id());
        if (row.borderline()) {
          rep.hsBorderlineMissed++;
        }
      }
      tally(rep.bySource, source(row.source()), routed, label, missed);
      tally(rep.byLength, lengthBucket(row.chars()), routed, label, missed);
    }
    return rep;
  }

  private static void tally(Map<String, int[]> m, String key, int routed, int label,
      boolean missed) {
    int[] v = m.computeIfAbsent(key, k -> new int[4]);
    v[0]++;
    v[1] += routed < label ? 1 : 0;
    v[2] += routed > label ? 1 : 0;
    v[3] += missed ? 1 : 0;
  }

  static String source(String source) {
    int at = source.indexOf('@');
    return at < 0 ? source : source.substring(0, at);
  }

  static String lengthBucket(int chars) {
    return chars < 100 ? "a: < 100" : chars < 300 ? "b: 100-299" : chars < 1000 ? "c: 300-999"
        : "d: >= 1000";
  }
}
