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
}
