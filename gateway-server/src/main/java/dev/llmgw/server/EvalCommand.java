package dev.llmgw.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.SnapshotLoader;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.config.Price;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.route.Caller;
import dev.llmgw.core.route.TierClassifier;
import dev.llmgw.routing.FeatureExtractor;
import dev.llmgw.routing.RequestFeatures;
import dev.llmgw.routing.RouteDecision;
import dev.llmgw.routing.RoutingPolicy;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code eval CONFIG_DIR labelled.jsonl [--min-recall R] [--max-below S] [--max-false-alarms F]
 * [--show-misrouted]}:
 * routes every labelled request with the config's policy (semantic scores computed, the judge asked
 * when a rule reaches it, exactly as live traffic from an anonymous caller) and prints the confusion
 * matrix, the highest tier's recall, the share routed below its label, harmless requests sent to the
 * highest tier, the saving against sending everything to the highest tier at the configured prices,
 * and how often each rule decided. Exit 1 when a given threshold is not met (operators' CI), 2 for
 * bad input.
 *
 * <p>Rows: shared/eval's format ({@code {"id", "messages", "tools"?, "label"}}), or {@code
 * {"request": {...chat request...}, "tier": "..."}}.
 */
final class EvalCommand {

  /** Output tokens assumed per request when pricing (the rows carry no answers). */
  static final int ASSUMED_OUTPUT_TOKENS = 300;

  private EvalCommand() {}

  static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length < 3) {
      err.println("usage: gateway-server.jar eval CONFIG_DIR LABELLED.jsonl [--min-recall R] "
          + "[--max-below S] [--max-false-alarms F] [--show-misrouted]");
      return 2;
    }
    Path dir = Path.of(args[1]);
    Path file = Path.of(args[2]);
    double minRecall = Double.NaN;
    double maxBelow = Double.NaN;
    double maxFalseAlarms = Double.NaN;
    boolean showMisrouted = false;
    for (int i = 3; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--show-misrouted")) {
        showMisrouted = true;
        continue;
      }
      if (i + 1 >= args.length) {
        err.println(a + ": missing value");
        return 2;
      }
      double v;
      try {
        v = Double.parseDouble(args[++i]);
      } catch (NumberFormatException e) {
        err.println(a + ": '" + args[i] + "' is not a number");
        return 2;
      }
      switch (a) {
        case "--min-recall" -> minRecall = v;
        case "--max-below" -> maxBelow = v;
        case "--max-false-alarms" -> maxFalseAlarms = v;
        default -> {
          err.println(a + ": unknown option (expected --min-recall, --max-below, --max-false-alarms, "
              + "--show-misrouted)");
          return 2;
        }
      }
    }
    GatewaySnapshot s = Main.loadOrReport(dir, err);
    if (s == null) {
      return 1;
    }
    RoutingPolicy policy = s.policy();
    if (policy == null) {
      err.println(dir.resolve(SnapshotLoader.ROUTING_FILE) + ": no routing policy to evaluate");
      return 1;
    }
    List<String> tiers = policy.tiers();
    int top = tiers.size() - 1;
    int bottom = 0;
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      err.println(file + ": cannot be read: " + e.getMessage());
      return 2;
    }
    int n = tiers.size();
    int[][] confusion = new int[n][n];
    Map<String, Integer> ruleHits = new LinkedHashMap<>();
    policy.rules().forEach(r -> ruleHits.put(r, 0));
    double cost = 0;
    double costAllTop = 0;
    int rows = 0;
    int below = 0;
    List<String> missedTop = new ArrayList<>();
    List<String> misrouted = new ArrayList<>();
    long started = System.nanoTime();
    try (TierClassifier classifier = new TierClassifier()) {
      classifier.configure(s.router().classifierSettings());
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i).strip();
        if (line.isEmpty()) {
          continue;
        }
        JsonNode row;
        try {
          row = RequestParser.JSON.readTree(line);
        } catch (IOException e) {
          err.println(file + ":" + (i + 1) + ": not JSON: " + e.getMessage());
          return 2;
        }
        JsonNode body;
        String label;
        if (row.has("request")) {
          body = row.get("request");
          label = row.path("tier").asText(null);
        } else {
          ObjectNode b = RequestParser.JSON.createObjectNode().put("model", "auto");
          b.set("messages", row.get("messages"));
          if (row.has("tools")) {
            b.set("tools", row.get("tools"));
          }
          body = b;
          label = row.path("label").asText(null);
        }
        int l = label == null ? -1 : tiers.indexOf(label);
        if (l < 0 || body == null || !body.isObject()) {
          err.println(file + ":" + (i + 1) + ": " + (body == null || !body.isObject()
              ? "no request (expected messages, or request)"
              : "label '" + label + "' is not a tier (expected one of: " + String.join(", ", tiers) + ")"));
          return 2;
        }
        if (!body.has("model")) {
          ((ObjectNode) body).put("model", "auto");
        }
        RequestFeatures f = FeatureExtractor.extract(body, h -> null, null, null);
        RouteDecision d = policy.decideBlocking(f,
            policy.usesJudge() ? x -> classifier.judgeBlocking(policy, x, s.config()) : null,
            s.router().safeTier(Caller.ANONYMOUS));
        int routed = tiers.indexOf(d.tier());
        rows++;
        confusion[l][routed]++;
        ruleHits.merge(d.rule(), 1, Integer::sum);
        below += routed < l ? 1 : 0;
        if (routed != l) {
          misrouted.add(row.path("id").asText("line " + (i + 1)) + ": " + label + " -> " + d.tier() + " ("
              + d.rule() + ")");
        }
        if (l == top && routed < top) {
          missedTop.add(row.path("id").asText("line " + (i + 1)));
        }
        int prompt = f.promptTokens();
        cost += price(s, policy, d.tier()).cost(prompt, 0, ASSUMED_OUTPUT_TOKENS);
        costAllTop += price(s, policy, tiers.get(top)).cost(prompt, 0, ASSUMED_OUTPUT_TOKENS);
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    if (rows == 0) {
      err.println(file + ": no rows");
      return 2;
    }
    out.printf(Locale.ROOT, "%s: %d requests, policy %s (%.1f s)%n", file, rows,
        dir.resolve(SnapshotLoader.ROUTING_FILE), seconds);
    out.printf(Locale.ROOT, "%-16s", "label \\ routed");
    tiers.forEach(t -> out.printf(Locale.ROOT, " %12s", t));
    out.println();
    for (int l = 0; l < n; l++) {
      out.printf(Locale.ROOT, "%-16s", tiers.get(l));
      for (int r = 0; r < n; r++) {
        out.printf(Locale.ROOT, " %12d", confusion[l][r]);
      }
      out.println();
    }
    int topCount = sum(confusion[top]);
    double recall = topCount == 0 ? 1 : (double) confusion[top][top] / topCount;
    double belowShare = (double) below / rows;
    int harmless = sum(confusion[bottom]);
    double falseAlarms = harmless == 0 ? 0 : (double) confusion[bottom][top] / harmless;
    double saving = costAllTop <= 0 ? 0 : 1 - cost / costAllTop;
    out.printf(Locale.ROOT, "%s recall: %.3f (%d/%d)%n", tiers.get(top), recall, confusion[top][top],
        topCount);
    out.printf(Locale.ROOT, "routed below label: %.3f (%d/%d)%n", belowShare, below, rows);
    out.printf(Locale.ROOT, "%s sent to %s: %.3f (%d/%d)%n", tiers.get(bottom), tiers.get(top),
        falseAlarms, confusion[bottom][top], harmless);
    out.printf(Locale.ROOT, "saving vs all %s at the configured prices: %.3f (prompt tokens estimated, "
        + "%d output tokens assumed per request)%n", tiers.get(top), saving, ASSUMED_OUTPUT_TOKENS);
    if (!missedTop.isEmpty()) {
      out.println(tiers.get(top) + " routed below: " + String.join(", ", missedTop));
    }
    if (showMisrouted) {
      out.println("misrouted (id: label -> routed (rule)):");
      misrouted.forEach(m -> out.println("  " + m));
    }
    out.println("decided by:");
    ruleHits.forEach((rule, hits) -> out.printf(Locale.ROOT, "  %-28s %5d%n", rule, hits));
    boolean ok = true;
    if (!Double.isNaN(minRecall) && recall < minRecall) {
      err.printf(Locale.ROOT, "FAIL: %s recall %.3f < --min-recall %.3f%n", tiers.get(top), recall, minRecall);
      ok = false;
    }
    if (!Double.isNaN(maxBelow) && belowShare > maxBelow) {
      err.printf(Locale.ROOT, "FAIL: routed below label %.3f > --max-below %.3f%n", belowShare, maxBelow);
      ok = false;
    }
    if (!Double.isNaN(maxFalseAlarms) && falseAlarms > maxFalseAlarms) {
      err.printf(Locale.ROOT, "FAIL: %s sent to %s %.3f > --max-false-alarms %.3f%n", tiers.get(bottom),
          tiers.get(top), falseAlarms, maxFalseAlarms);
      ok = false;
    }
    return ok ? 0 : 1;
  }

  /** The price of a tier's primary model (free when it has none configured). */
  private static Price price(GatewaySnapshot s, RoutingPolicy policy, String tier) {
    ModelAlias a = s.config().models().get(policy.targets(tier).get(0));
    return a == null || a.price() == null ? Price.FREE : a.price();
  }

  private static int sum(int[] a) {
    int t = 0;
    for (int v : a) {
      t += v;
    }
    return t;
  }
}
