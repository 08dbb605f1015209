package dev.llmgw.routing;

import dev.llmgw.routing.semantic.Embedders;
import dev.llmgw.routing.semantic.Example;
import dev.llmgw.routing.semantic.ExampleFiles;
import dev.llmgw.routing.semantic.SemanticIndex;
import dev.llmgw.routing.semantic.SemanticScores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Tuning aid (not a test): per row of an eval file, the rules-only decision and semantic scores. */
public final class SemanticDump {
  public static void main(String[] args) throws Exception {
    RoutingPolicy policy = RoutingYamlReader.shipped();
    List<Example> ex = new ArrayList<>();
    try (var files = Files.list(Path.of("../config/semantic"))) {
      for (Path f : files.sorted().toList()) {
        ExampleFiles.Read r = ExampleFiles.read(f, "x", EvalSet.TIERS);
        if (!r.problems().isEmpty()) {
          throw new IllegalStateException(r.problems().toString());
        }
        ex.addAll(r.examples());
      }
    }
    int k = Integer.parseInt(args[1]);
    SemanticIndex index = new SemanticIndex(Embedders.builtin(Embedders.BUILTIN), EvalSet.TIERS, ex, k);
    for (EvalSet.Row row : EvalSet.load(Path.of(args[0]))) {
      RequestFeatures f = FeatureExtractor.extract(row.body(), h -> null, null, null);
      RouteDecision d;
      try {
        d = policy.decide(f);
      } catch (SignalNeeded n) {
        d = null;
      }
      StringBuilder sb = new StringBuilder();
      sb.append(row.id()).append('\t').append(row.label()).append('\t').append(row.borderline())
          .append('\t').append(d == null ? "?" : d.tier()).append('\t').append(d == null ? "?" : d.rule());
      List<String> segs = f.segments();
      for (int s = 0; s < segs.size(); s++) {
        SemanticScores sc = index.score(List.of(segs.get(s)));
        sb.append('\t').append(String.format(Locale.ROOT, "%.4f,%.4f,%.4f", sc.score(0), sc.score(1), sc.score(2)));
      }
      System.out.println(sb);
    }
  }
}
