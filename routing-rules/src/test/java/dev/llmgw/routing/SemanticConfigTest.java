package dev.llmgw.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The classifier section and its files: every problem refused with the file, the line and the
 * reason; a good section compiles into an index whose scores rank the nearest examples.
 */
class SemanticConfigTest {

  @TempDir
  Path dir;

  static final String HEAD = """
      defaultTier: trivial
      tiers:
        trivial: {targets: [local]}
        high-stakes: {targets: [gpt-4o]}
      """;

  CompileResult compile(String classifierAndRules) {
    return RuleCompiler.compile(RoutingYamlReader.read(HEAD + classifierAndRules),
        RoutingYamlReader.SHIPPED_TARGETS, dir);
  }

  static List<String> problems(CompileResult r) {
    return r.problems().stream().map(RuleProblem::toString).toList();
  }

  static final String SEMANTIC_RULE = """
      rules:
        - name: close
          tier: high-stakes
          when: {semantic: {tier: high-stakes, minScore: 0.5}}
      """;

  @Test
  void brokenLinesUnknownTiersAndKeysAreRefusedWithFileAndLine() throws Exception {
    Files.writeString(dir.resolve("ex.jsonl"), """
        // a comment line, then a blank one

        {"tier": "high-stakes", "text": "my basement smells of gas"}
        {"tier": "urgent", "text": "call an ambulance"}
        {"tier": "trivial", "text": "hello
        {"tier": "trivial"}
        {"tier": "trivial", "text": "hi", "why": "greeting"}
        ["trivial", "hi"]
        """);
    CompileResult r = compile("classifier: {semantic: {examples: [ex.jsonl]}}\n" + SEMANTIC_RULE);
    assertThat(r.ok()).isFalse();
    Path f = dir.resolve("ex.jsonl");
    assertThat(r.problems()).extracting(RuleProblem::file).containsOnly(f);
    assertThat(problems(r)).containsExactly(
        f + ":4: tier: 'urgent' is not a configured tier (expected one of: trivial, high-stakes)",
        f + ":5: not a JSON object (Unexpected end-of-input: was expecting closing quote for a string value)",
        f + ":6: text: missing or empty (expected the request text as a string)",
        f + ":7: unknown key 'why' (expected tier and text)",
        f + ":8: not a JSON object (expected {\"tier\": ..., \"text\": ...})");
  }

  @Test
  void aFileThatIsNotUtf8IsRefused() throws Exception {
    Files.write(dir.resolve("ex.jsonl"), new byte[] {'{', (byte) 0xff, (byte) 0xfe, '}', '\n'});
    CompileResult r = compile("classifier: {semantic: {examples: [ex.jsonl]}}\n" + SEMANTIC_RULE);
    assertThat(problems(r)).containsExactly(dir.resolve("ex.jsonl") + ": not UTF-8 text");
  }

  @Test
  void aMissingExampleFileOrModelFileIsRefused() throws Exception {
    CompileResult r = compile("classifier: {semantic: {examples: [none.jsonl]}}\n" + SEMANTIC_RULE);
    assertThat(problems(r)).containsExactly("classifier.semantic.examples[0]: "
        + dir.resolve("none.jsonl") + ": file not found");
    Files.writeString(dir.resolve("ex.jsonl"), "{\"tier\": \"trivial\", \"text\": \"hi\"}\n");
    CompileResult m = compile("""
        classifier: {semantic: {onnx: model.onnx, tokenizer: tokenizer.json, examples: [ex.jsonl]}}
        """ + SEMANTIC_RULE);
    assertThat(problems(m)).containsExactly("classifier.semantic.onnx: " + dir.resolve("model.onnx")
        + ": file not found");
  }

  @Test
  void anOnnxModelThatFailsToLoadIsRefusedWithTheReason() throws Exception {
    Files.writeString(dir.resolve("ex.jsonl"), "{\"tier\": \"trivial\", \"text\": \"hi\"}\n");
    Files.writeString(dir.resolve("model.onnx"), "not a model");
    Files.writeString(dir.resolve("tokenizer.json"), "{}");
    CompileResult r = compile("""
        classifier: {semantic: {onnx: model.onnx, tokenizer: tokenizer.json, examples: [ex.jsonl]}}
        """ + SEMANTIC_RULE);
    assertThat(r.ok()).isFalse();
    assertThat(problems(r)).singleElement().asString()
        .startsWith("classifier.semantic.onnx: " + dir.resolve("model.onnx")
            + ": not a usable ONNX sentence-embedding model with tokenizer.json (");
  }

  @Test
  void signalConditionsNeedTheirSectionAndATier() {
    CompileResult r = compile("""
        rules:
          - name: a
            tier: high-stakes
            when: {semantic: {tier: high-stakes, minScore: 0.5}}
          - name: b
            tier: high-stakes
            when: {judge: high-stakes}
        """);
    assertThat(problems(r)).containsExactly(
        "rules[0].when.semantic: no semantic classifier is configured (expected classifier.semantic "
            + "with a model and example files)",
        "rules[1].when.judge: no judge is configured (expected classifier.judge with a model)");
    CompileResult t = compile("""
        classifier: {judge: {model: gpt-5}, safeTier: gold}
        rules:
          - name: b
            tier: high-stakes
            when: {judge: platinum}
        """);
    assertThat(problems(t)).containsExactly(
        "classifier.safeTier: 'gold' is not a configured tier (expected one of: trivial, high-stakes)",
        "classifier.judge.model: 'gpt-5' is not a configured model (expected a model alias of "
            + "gateway.yaml: gpt-4o, gpt-4o-mini, local)",
        "rules[0].when.judge: 'platinum' is not a configured tier (expected one of: trivial, "
            + "high-stakes)");
  }

  @Test
  void theNearestExamplesDecideAndTheJudgePromptDescribesTheTiers() throws Exception {
    Files.writeString(dir.resolve("ex.jsonl"), """
        {"tier": "high-stakes", "text": "my basement smells strongly of gas"}
        {"tier": "trivial", "text": "suggest a name for my goldfish"}
        """);
    CompileResult r = compile("classifier: {semantic: {examples: [ex.jsonl], k: 1}, "
        + "judge: {model: gpt-4o-mini}}\n" + SEMANTIC_RULE);
    assertThat(problems(r)).isEmpty();
    RoutingPolicy p = r.policyOrNull();
    assertThat(p.usesSemantic()).isTrue();
    assertThat(p.usesJudge()).isFalse();
    assertThat(p.classifier().semantic().files()).containsExactly(dir.resolve("ex.jsonl"));
    assertThat(p.classifier().judgePrompt()).contains("- trivial", "- high-stakes",
        "Reply with the tier name only.");
    RequestFeatures gas = RoutingPolicyTest.chat("I can smell gas in the basement");
    assertThat(p.decideBlocking(gas, null, "high-stakes").rule()).isEqualTo("close");
    assertThat(gas.semantic().nearest().get(0).example().line()).isEqualTo(1);
    RequestFeatures fish = RoutingPolicyTest.chat("what should I call my new goldfish?");
    assertThat(p.decideBlocking(fish, null, "high-stakes").rule()).isEqualTo("default");
  }

  @Test
  void anOwnOnnxModelWithItsTokenizerScoresLikeTheSameModelBuiltIn() throws Exception {
    // the built-in model's own files, taken out of its jar, stand for an operator's model
    Class<?> jar = dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel.class;
    try (var model = jar.getResourceAsStream("/all-minilm-l6-v2-q.onnx");
        var tokenizer = jar.getResourceAsStream("/all-minilm-l6-v2-q-tokenizer.json")) {
      Files.copy(model, dir.resolve("own.onnx"));
      Files.copy(tokenizer, dir.resolve("own-tokenizer.json"));
    }
    Files.writeString(dir.resolve("ex.jsonl"), """
        {"tier": "high-stakes", "text": "my basement smells strongly of gas"}
        {"tier": "trivial", "text": "suggest a name for my goldfish"}
        """);
    CompileResult own = compile("classifier: {semantic: {onnx: own.onnx, tokenizer: own-tokenizer.json, "
        + "pooling: mean, examples: [ex.jsonl], k: 1}}\n" + SEMANTIC_RULE);
    CompileResult builtIn = compile("classifier: {semantic: {model: all-minilm-l6-v2-q, examples: [ex.jsonl], "
        + "k: 1}}\n" + SEMANTIC_RULE);
    assertThat(problems(own)).isEmpty();
    assertThat(own.policyOrNull().classifier().semantic().embedder().id()).isEqualTo("own.onnx");
    RequestFeatures a = RoutingPolicyTest.chat("I can smell gas in the basement");
    RequestFeatures b = RoutingPolicyTest.chat("I can smell gas in the basement");
    double[] x = own.policyOrNull().computeSemantic(a).perSegment()[0];
    double[] y = builtIn.policyOrNull().computeSemantic(b).perSegment()[0];
    assertThat(x[1]).isGreaterThan(0.5).isCloseTo(y[1], org.assertj.core.data.Offset.offset(1e-4));
    assertThat(x[0]).isCloseTo(y[0], org.assertj.core.data.Offset.offset(1e-4));
  }

  /** Three high-stakes examples: enough of one tier to fit the second model's map. */
  private static final String THREE_HIGH_STAKES = """
        {"tier": "high-stakes", "text": "my basement smells strongly of gas"}
        {"tier": "high-stakes", "text": "the baby swallowed a button battery"}
        {"tier": "high-stakes", "text": "wire the company's payroll to this new account"}
        """;

  @Test
  void aBrokenSecondOpinionIsRefusedWithThePathAndTheReason() throws Exception {
    Files.writeString(dir.resolve("ex.jsonl"), THREE_HIGH_STAKES);
    assertThat(problems(compile("classifier: {semantic: {examples: [ex.jsonl], "
        + "secondOpinion: {band: 0.03}}}\n" + SEMANTIC_RULE))).containsExactly(
        "classifier.semantic.secondOpinion: no model (expected model: bge-small-en-v15-q, or onnx "
            + "and tokenizer files of your own)");
    assertThat(problems(compile("classifier: {semantic: {examples: [ex.jsonl], "
        + "secondOpinion: {model: bge-small-en-v15-q, band: 0}}}\n" + SEMANTIC_RULE)))
        .containsExactly("classifier.semantic.secondOpinion.band: '0' is not a band (expected a "
            + "number above 0 and at most 1, e.g. 0.03)");
    assertThat(problems(compile("classifier: {semantic: {examples: [ex.jsonl], "
        + "secondOpinion: {model: all-minilm-l6-v2-q}}}\n" + SEMANTIC_RULE))).containsExactly(
        "classifier.semantic.secondOpinion.model: 'all-minilm-l6-v2-q' is the first model too "
            + "(expected a different model, whose opinion adds something)");
    assertThat(problems(compile("classifier: {semantic: {examples: [ex.jsonl], "
        + "secondOpinion: {model: gte-large}}}\n" + SEMANTIC_RULE))).containsExactly(
        "classifier.semantic.secondOpinion.model: 'gte-large' is not a built-in model (expected one "
            + "of all-minilm-l6-v2-q, bge-small-en-v15-q, or onnx and tokenizer files of your own)");
    assertThat(problems(compile("classifier: {semantic: {examples: [ex.jsonl], "
        + "secondOpinion: {onnx: missing.onnx}}}\n" + SEMANTIC_RULE))).containsExactly(
        "classifier.semantic.secondOpinion.tokenizer: missing (an own model needs both onnx, the "
            + "model file, and tokenizer, its tokenizer.json)");
    assertThat(problems(compile("classifier: {semantic: {examples: [ex.jsonl], "
        + "secondOpinion: {model: bge-small-en-v15-q, tiers: []}}}\n" + SEMANTIC_RULE)))
        .containsExactly("classifier.semantic.secondOpinion.tiers: empty list (expected the tiers "
            + "whose semantic conditions may ask the second model, e.g. [high-stakes]; leave it out "
            + "for every tier)");
    assertThat(problems(compile("classifier: {semantic: {examples: [ex.jsonl], "
        + "secondOpinion: {model: bge-small-en-v15-q, tiers: [high-stakes, urgent]}}}\n"
        + SEMANTIC_RULE))).containsExactly("classifier.semantic.secondOpinion.tiers[1]: 'urgent' "
            + "is not a configured tier (expected one of: trivial, high-stakes)");
    Files.writeString(dir.resolve("two.jsonl"), """
        {"tier": "high-stakes", "text": "my basement smells strongly of gas"}
        {"tier": "high-stakes", "text": "the baby swallowed a button battery"}
        {"tier": "trivial", "text": "suggest a name for my goldfish"}
        """);
    assertThat(problems(compile("classifier: {semantic: {examples: [two.jsonl], "
        + "secondOpinion: {model: bge-small-en-v15-q}}}\n" + SEMANTIC_RULE))).containsExactly(
        "classifier.semantic.secondOpinion: too few examples to put the two models' scores on one "
            + "scale (expected at least three examples of one tier)");
  }

  @Test
  void aRequestCloseToAThresholdIsDecidedOnTheMeanOfBothModelsCalibratedOnTheExamples()
      throws Exception {
    List<String> high = List.of("my basement smells strongly of gas",
        "the baby swallowed a button battery", "wire the company's payroll to this new account");
    List<String> trivial = List.of("suggest a name for my goldfish",
        "a haiku about the first snow", "what rhymes with orange");
    StringBuilder ex = new StringBuilder();
    high.forEach(t -> ex.append("{\"tier\": \"high-stakes\", \"text\": \"").append(t).append("\"}\n"));
    trivial.forEach(t -> ex.append("{\"tier\": \"trivial\", \"text\": \"").append(t).append("\"}\n"));
    Files.writeString(dir.resolve("ex.jsonl"), ex);
    // band 1: every request is "close", so each asks for the second opinion
    CompileResult r = compile("classifier: {semantic: {examples: [ex.jsonl], k: 1, "
        + "secondOpinion: {model: bge-small-en-v15-q, band: 1}}}\n" + """
        rules:
          - name: close
            tier: high-stakes
            when: {semantic: {tier: high-stakes, minScore: 0.2, margin: 0.0}}
        """);
    assertThat(problems(r)).isEmpty();
    RoutingPolicy p = r.policyOrNull();
    var index = p.classifier().semantic();
    assertThat(index.second().id()).isEqualTo("bge-small-en-v15-q");

    // the map onto the first model's scale, computed here from the two models' own vectors:
    // every example's nearest other example of each tier (k = 1), same mean and spread
    var first = dev.llmgw.routing.semantic.Embedders.builtin("all-minilm-l6-v2-q");
    var second = dev.llmgw.routing.semantic.Embedders.builtin("bge-small-en-v15-q");
    List<List<String>> tiers = List.of(trivial, high);
    double[] a = leaveOneOut(first, tiers);
    double[] b = leaveOneOut(second, tiers);
    double scale = std(a) / std(b);
    double shift = mean(a) - scale * mean(b);
    assertThat(index.calibration()).containsExactly(new double[] {scale, shift},
        org.assertj.core.data.Offset.offset(1e-6));

    RequestFeatures gas = RoutingPolicyTest.chat("I can smell gas near the boiler");
    RouteDecision d = p.explainBlocking(gas, null, "high-stakes");
    assertThat(gas.semantic().refined()).isTrue();
    float[] q1 = first.embed("I can smell gas near the boiler");
    float[] q2 = second.embed("I can smell gas near the boiler");
    for (int t = 0; t < 2; t++) {
      double mixed = (nearest(q1, first, tiers.get(t)) + scale * nearest(q2, second, tiers.get(t))
          + shift) / 2;
      assertThat(gas.semantic().perSegment()[0][t]).isCloseTo(mixed,
          org.assertj.core.data.Offset.offset(1e-5));
    }
    assertThat(d.rule()).isEqualTo("close");
    assertThat(d.trace().get(0).detail()).contains("mean of the first and the second model's scores");

    // without a second opinion configured, the same request is decided on the first model's scores
    CompileResult one = compile("classifier: {semantic: {examples: [ex.jsonl], k: 1}}\n" + """
        rules:
          - name: close
            tier: high-stakes
            when: {semantic: {tier: high-stakes, minScore: 0.2, margin: 0.0}}
        """);
    RequestFeatures again = RoutingPolicyTest.chat("I can smell gas near the boiler");
    one.policyOrNull().decideBlocking(again, null, "high-stakes");
    assertThat(again.semantic().refined()).isFalse();
    assertThat(again.semantic().perSegment()[0][1]).isCloseTo(nearest(q1, first, high),
        org.assertj.core.data.Offset.offset(1e-5));
  }

  @Test
  void aSecondOpinionForSomeTiersIsAskedOnlyByTheirConditions() throws Exception {
    Files.writeString(dir.resolve("ex.jsonl"), THREE_HIGH_STAKES + """
        {"tier": "trivial", "text": "suggest a name for my goldfish"}
        {"tier": "trivial", "text": "a haiku about the first snow"}
        {"tier": "trivial", "text": "what rhymes with orange"}
        """);
    // band 1: every call is close; the trivial rule comes first, and only high-stakes may ask
    CompileResult r = compile("classifier: {semantic: {examples: [ex.jsonl], k: 1, "
        + "secondOpinion: {model: bge-small-en-v15-q, band: 1, tiers: [high-stakes]}}}\n" + """
        rules:
          - name: harmless
            tier: trivial
            when: {semantic: {tier: trivial, minScore: 0.2, margin: 0.0}}
          - name: close
            tier: high-stakes
            when: {semantic: {tier: high-stakes, minScore: 0.2, margin: 0.0}}
        """);
    assertThat(problems(r)).isEmpty();
    RoutingPolicy p = r.policyOrNull();
    // a harmless request: the trivial rule decides on the first model's scores, no second opinion
    RequestFeatures goldfish = RoutingPolicyTest.chat("a name for my new goldfish, please");
    assertThat(p.decideBlocking(goldfish, null, "high-stakes").rule()).isEqualTo("harmless");
    assertThat(goldfish.semantic().refined()).isFalse();
    // a request the trivial rule lets through reaches the high-stakes rule, which asks
    RequestFeatures gas = RoutingPolicyTest.chat("I can smell gas near the boiler");
    assertThat(p.decideBlocking(gas, null, "high-stakes").rule()).isEqualTo("close");
    assertThat(gas.semantic().refined()).isTrue();
  }

  private static double nearest(float[] q, dev.llmgw.routing.semantic.Embedder m, List<String> of) {
    double best = Double.NEGATIVE_INFINITY;
    for (String t : of) {
      best = Math.max(best, dot(q, m.embed(t)));
    }
    return best;
  }

  private static double[] leaveOneOut(dev.llmgw.routing.semantic.Embedder m,
      List<List<String>> tiers) {
    List<Double> out = new java.util.ArrayList<>();
    for (List<String> own : tiers) {
      for (String e : own) {
        for (List<String> tier : tiers) {
          List<String> others = tier.stream().filter(t -> !t.equals(e)).toList();
          out.add(nearest(m.embed(e), m, others));
        }
      }
    }
    return out.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  private static double mean(double[] xs) {
    return java.util.Arrays.stream(xs).average().orElseThrow();
  }

  private static double std(double[] xs) {
    double m = mean(xs);
    return Math.sqrt(java.util.Arrays.stream(xs).map(x -> (x - m) * (x - m)).average().orElseThrow());
  }
}
