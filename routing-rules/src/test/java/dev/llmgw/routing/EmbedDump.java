package dev.llmgw.routing;

import dev.llmgw.routing.semantic.Embedder;
import dev.llmgw.routing.semantic.Embedders;
import dev.llmgw.routing.semantic.Example;
import dev.llmgw.routing.semantic.ExampleFiles;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Tuning aid (not a test): embeddings of the examples and of eval rows' segments, as TSV. */
public final class EmbedDump {
  public static void main(String[] args) throws Exception {
    String onnx = System.getProperty("embed.onnx");
    String prefix = System.getProperty("embed.prefix", "");
    Embedder base = onnx == null ? Embedders.builtin(Embedders.BUILTIN)
        : Embedders.onnx(Path.of(onnx), Path.of(System.getProperty("embed.tokenizer")),
            System.getProperty("embed.pooling", "mean"));
    Embedder e = new Embedder() {
      @Override
      public String id() {
        return base.id();
      }

      @Override
      public float[] embed(String text) {
        return base.embed(prefix + text);
      }
    };
    RoutingPolicy policy = RoutingYamlReader.shipped();
    try (PrintStream out = new PrintStream(args[0])) {
      try (var files = Files.list(Path.of("../config/semantic"))) {
        for (Path f : files.sorted().toList()) {
          for (Example ex : ExampleFiles.read(f, "x", EvalSet.TIERS).examples()) {
            out.println("EX\t" + ex.where() + "\t" + ex.tier() + "\t" + vec(e.embed(ex.text())));
          }
        }
      }
      for (int i = 1; i < args.length; i++) {
        for (EvalSet.Row row : EvalSet.load(Path.of(args[i]))) {
          RequestFeatures f = FeatureExtractor.extract(row.body(), h -> null, null, null);
          RouteDecision d;
          try {
            // the keyword rules' decision: semantic conditions never match here
            f.semantic(new dev.llmgw.routing.semantic.SemanticScores(EvalSet.TIERS,
                new double[][] {{Double.NaN, Double.NaN, Double.NaN}}, List.of()));
            d = policy.decide(f);
          } catch (SignalNeeded n) {
            d = null;
          }
          List<String> segs = f.segments();
          StringBuilder sb = new StringBuilder("ROW\t" + row.id() + "\t" + row.label() + "\t"
              + row.borderline() + "\t" + (d == null ? "?" : d.tier()) + "\t" + (d == null ? "?" : d.rule()));
          for (String s : segs) {
            sb.append('\t').append(vec(e.embed(s)));
          }
          out.println(sb);
        }
      }
    }
  }

  private static String vec(float[] v) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < v.length; i++) {
      sb.append(i == 0 ? "" : ",").append(v[i]);
    }
    return sb.toString();
  }
}
