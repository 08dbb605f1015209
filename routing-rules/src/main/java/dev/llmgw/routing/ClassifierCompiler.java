package dev.llmgw.routing;

import static dev.llmgw.routing.Problems.child;
import static dev.llmgw.routing.Problems.element;
import static dev.llmgw.routing.Problems.oneOf;

import dev.llmgw.routing.raw.ClassifierYaml;
import dev.llmgw.routing.raw.JudgeYaml;
import dev.llmgw.routing.raw.SecondOpinionYaml;
import dev.llmgw.routing.raw.SemanticYaml;
import dev.llmgw.routing.raw.TierYaml;
import dev.llmgw.routing.semantic.Embedder;
import dev.llmgw.routing.semantic.Embedders;
import dev.llmgw.routing.semantic.Example;
import dev.llmgw.routing.semantic.ExampleFiles;
import dev.llmgw.routing.semantic.SemanticIndex;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compiles {@code classifier}: checks the section, reads every example file (each broken line
 * reported with its file and line), loads the embedding model (a model that fails to load is a
 * problem at {@code classifier.semantic}, with the reason), and, only when the whole policy has no
 * problem, embeds the examples into a {@link SemanticIndex}.
 */
final class ClassifierCompiler {

  static final int DEFAULT_K = 3;
  static final double DEFAULT_BAND = 0.03;

  private final Problems problems;
  private final Path baseDir;
  private final List<String> tiers;
  private final Set<String> known;

  ClassifierCompiler(Problems problems, Path baseDir, List<String> tiers, Set<String> known) {
    this.problems = problems;
    this.baseDir = baseDir;
    this.tiers = tiers;
    this.known = known;
  }

  /**
   * What was checked, before anything costly is built.
   *
   * @param secondOpinionTiers the tiers whose semantic conditions may ask the second model
   */
  record Parts(ClassifierYaml raw, Embedder embedder, List<Example> examples, int k,
      Embedder second, double band, Set<String> secondOpinionTiers, String judgeModel,
      String judgePrompt, String safeTier, boolean semantic, boolean judge) {}

  Parts parts(ClassifierYaml raw, Map<String, TierYaml> rawTiers) {
    if (raw == null) {
      return new Parts(null, null, List.of(), DEFAULT_K, null, 0, Set.of(), null, null, null, false,
          false);
    }
    String safe = null;
    if (raw.safeTier() != null) {
      if (tiers.contains(raw.safeTier().strip())) {
        safe = raw.safeTier().strip();
      } else {
        problems.add("classifier.safeTier", "'" + raw.safeTier()
            + "' is not a configured tier (expected one of: " + oneOf(tiers) + ")");
      }
    }
    Embedder embedder = null;
    List<Example> examples = new ArrayList<>();
    int k = DEFAULT_K;
    Embedder second = null;
    double band = 0;
    Set<String> secondOpinionTiers = Set.copyOf(tiers);
    SemanticYaml s = raw.semantic();
    if (s != null) {
      String at = "classifier.semantic";
      embedder = embedder(at, s.model(), s.onnx(), s.tokenizer(), s.pooling());
      examples = examples(s);
      k = k(s.k());
      SecondOpinionYaml so = s.secondOpinion();
      if (so != null) {
        String soAt = child(at, "secondOpinion");
        if (so.model() == null && so.onnx() == null && so.tokenizer() == null) {
          problems.add(soAt, "no model (expected model: " + Embedders.BGE + ", or onnx and "
              + "tokenizer files of your own)");
        } else {
          second = embedder(soAt, so.model(), so.onnx(), so.tokenizer(), so.pooling());
        }
        band = band(child(soAt, "band"), so.band());
        if (so.tiers() != null) {
          secondOpinionTiers = secondOpinionTiers(child(soAt, "tiers"), so.tiers());
        }
        boolean calibratable = examples.stream()
            .collect(java.util.stream.Collectors.groupingBy(Example::tier,
                java.util.stream.Collectors.counting()))
            .values().stream().anyMatch(n -> n >= 3);
        if (second != null && !examples.isEmpty() && !calibratable) {
          problems.add(soAt, "too few examples to put the two models' scores on one scale "
              + "(expected at least three examples of one tier)");
          second = null;
        }
        if (second != null && embedder != null && second.id().equals(embedder.id())) {
          problems.add(child(soAt, "model"), "'" + second.id() + "' is the first model too "
              + "(expected a different model, whose opinion adds something)");
          second = null;
        }
      }
    }
    String judgeModel = null;
    String prompt = null;
    JudgeYaml j = raw.judge();
    if (j != null) {
      if (j.model() == null || !known.contains(j.model().strip())) {
        problems.add("classifier.judge.model", (j.model() == null ? "missing"
            : "'" + j.model() + "' is not a configured model") + " (expected a model alias of "
            + "gateway.yaml: " + oneOf(known) + ")");
      } else {
        judgeModel = j.model().strip();
      }
      prompt = j.prompt() != null && !j.prompt().isBlank() ? j.prompt().strip()
          : defaultPrompt(rawTiers);
    }
    return new Parts(raw, embedder, examples, k, second, band, secondOpinionTiers, judgeModel,
        prompt, safe, s != null, j != null);
  }

  Classifier build(Parts p) {
    if (p.raw() == null) {
      return Classifier.NONE;
    }
    SemanticIndex index = null;
    if (p.semantic() && p.embedder() != null) {
      try {
        index = new SemanticIndex(p.embedder(), tiers, p.examples(), p.k(), p.second(), p.band());
      } catch (RuntimeException e) {
        problems.add("classifier.semantic", "the model failed on the examples: " + e);
        return null;
      }
    }
    return new Classifier(index, p.judgeModel(), p.judgePrompt(), p.safeTier());
  }

  private Embedder embedder(String at, String model, String onnx, String tokenizer,
      String pooling) {
    try {
      if (onnx != null || tokenizer != null) {
        if (model != null) {
          problems.add(child(at, "model"), "'" + model + "' and onnx are both set (expected "
              + "either a built-in model or onnx and tokenizer files)");
          return null;
        }
        if (onnx == null || tokenizer == null) {
          problems.add(child(at, onnx == null ? "onnx" : "tokenizer"), "missing (an own "
              + "model needs both onnx, the model file, and tokenizer, its tokenizer.json)");
          return null;
        }
        return Embedders.onnx(baseDir.resolve(onnx.strip()), baseDir.resolve(tokenizer.strip()),
            pooling == null ? "mean" : pooling);
      }
      if (pooling != null) {
        problems.add(child(at, "pooling"), "applies to an own onnx model only (a built-in model "
            + "has its own)");
      }
      return Embedders.builtin(model == null ? Embedders.BUILTIN : model.strip());
    } catch (Embedders.LoadException e) {
      problems.add(child(at, onnx != null ? "onnx" : "model"), e.getMessage());
      return null;
    }
  }

  private Set<String> secondOpinionTiers(String at, List<String> raw) {
    if (raw.isEmpty()) {
      problems.add(at, "empty list (expected the tiers whose semantic conditions may ask the second "
          + "model, e.g. [high-stakes]; leave it out for every tier)");
      return Set.copyOf(tiers);
    }
    Set<String> out = new java.util.HashSet<>();
    for (int i = 0; i < raw.size(); i++) {
      String t = raw.get(i) == null ? "" : raw.get(i).strip();
      if (tiers.contains(t)) {
        out.add(t);
      } else {
        problems.add(element(at, i), "'" + raw.get(i) + "' is not a configured tier (expected one "
            + "of: " + oneOf(tiers) + ")");
      }
    }
    return Set.copyOf(out);
  }

  private double band(String at, String raw) {
    if (raw == null) {
      return DEFAULT_BAND;
    }
    try {
      double band = Double.parseDouble(raw.strip());
      if (band > 0 && band <= 1) {
        return band;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    problems.add(at, "'" + raw + "' is not a band (expected a number above 0 and at most 1, "
        + "e.g. 0.03)");
    return DEFAULT_BAND;
  }

  private List<Example> examples(SemanticYaml s) {
    String at = "classifier.semantic.examples";
    List<Example> out = new ArrayList<>();
    if (s.examples() == null || s.examples().isEmpty()) {
      problems.add(at, "missing (expected a list of example files, JSON Lines of "
          + "{\"tier\": ..., \"text\": ...}, relative to routing.yaml)");
      return out;
    }
    for (int i = 0; i < s.examples().size(); i++) {
      String f = s.examples().get(i);
      if (f == null || f.isBlank()) {
        problems.add(element(at, i), "empty (expected a file name)");
        continue;
      }
      ExampleFiles.Read read = ExampleFiles.read(baseDir.resolve(f.strip()).normalize(),
          element(at, i), tiers);
      read.problems().forEach(problems::add);
      out.addAll(read.examples());
    }
    return out;
  }

  private int k(String raw) {
    if (raw == null) {
      return DEFAULT_K;
    }
    try {
      int k = Integer.parseInt(raw.strip());
      if (k >= 1 && k <= 50) {
        return k;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    problems.add("classifier.semantic.k", "'" + raw + "' is not a neighbour count (expected an "
        + "integer from 1 to 50)");
    return DEFAULT_K;
  }

  private String defaultPrompt(Map<String, TierYaml> rawTiers) {
    StringBuilder sb = new StringBuilder("You route requests to language models. Classify the "
        + "request below into exactly one tier. Tiers, cheapest first:\n");
    for (String t : tiers) {
      TierYaml y = rawTiers == null ? null : rawTiers.get(t);
      sb.append("- ").append(t);
      if (y != null && y.description() != null) {
        sb.append(": ").append(y.description().strip());
      }
      sb.append('\n');
    }
    return sb.append("When an error in the answer could harm a person's health, safety, money, "
        + "legal position, job or data, choose the highest tier. Reply with the tier name only.")
        .toString();
  }
}
