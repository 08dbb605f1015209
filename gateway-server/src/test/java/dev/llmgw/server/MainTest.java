package dev.llmgw.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operators' command line: validate (for their CI) and explain, on the shipped config and a broken one. */
class MainTest {
  static final Path SHIPPED = Path.of("..", "config");

  record Run(int code, String out, String err) {}

  interface Cmd {
    int run(PrintStream out, PrintStream err);
  }

  static Run run(Cmd c) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = c.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void theShippedConfigValidates() {
    Run r = run((out, err) -> Main.validate(SHIPPED, out, err));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("gateway.yaml: OK").contains("routing.yaml: OK");
  }

  @Test
  void aBrokenRoutingFileFailsWithEveryProblem(@TempDir Path dir) throws Exception {
    Files.copy(SHIPPED.resolve("gateway.yaml"), dir.resolve("gateway.yaml"));
    Files.writeString(dir.resolve("routing.yaml"), """
        defaultTier: nope
        tiers:
          trivial: { targets: [not-a-model] }
        rules:
          - name: r1
            tier: trivial
            when: { lastUserMessage: { regex: '[a-' } }
          - name: r2
            tier: trivial
            when: { colour: blue }
        """);
    Run r = run((out, err) -> Main.validate(dir, out, err));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("routing.yaml:1: defaultTier").contains("routing.yaml:3: tiers.trivial.targets[0]")
        .contains("rules[0].when.lastUserMessage.regex").contains("rules[1].when.colour");
  }

  @Test
  void explainPrintsTheDecisionAndTrace(@TempDir Path dir) throws Exception {
    Path req = dir.resolve("req.json");
    Files.writeString(req, "{\"headers\":{\"X-Stakes\":\"high\"},\"body\":{\"model\":\"auto\","
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}");
    Run r = run((out, err) -> Main.explain(SHIPPED, req, out, err));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("marked-high-stakes").contains("tier: high-stakes").contains("candidates: ");
  }

  @Test
  void explainAsAGatewayKeyShowsWhatLiveRoutingDoesForIt(@TempDir Path dir) throws Exception {
    try (var files = Files.walk(SHIPPED)) {
      for (Path f : files.toList()) {
        Path to = dir.resolve(SHIPPED.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(to);
        } else if (!f.toString().contains("/state/")) {
          Files.copy(f, to);
        }
      }
    }
    Files.writeString(dir.resolve("gateway.yaml"), Files.readString(dir.resolve("gateway.yaml"))
        .replace("  # keysFile: keys.yaml ", "  keysFile: keys.yaml   "));
    Files.writeString(dir.resolve("keys.yaml"), """
        keys:
          support-bot:
            sha256: 3aecaccbbd9aeba1307f43284c25f17131701c255510084b3800ca91dad5561c
            tiers: [trivial, balanced]
            models: [auto]
        """);
    Path req = dir.resolve("req.json");
    Files.writeString(req, "{\"headers\":{\"X-Stakes\":\"high\"},\"body\":{\"model\":\"auto\","
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}");
    Run anonymous = run((out, err) -> Main.explain(dir, req, null, out, err));
    assertThat(anonymous.out()).as(anonymous.err()).contains("tier: high-stakes");
    Run keyed = run((out, err) -> Main.explain(dir, req, "support-bot", out, err));
    assertThat(keyed.code()).as(keyed.err()).isZero();
    assertThat(keyed.out()).contains("as key: support-bot").contains("refused: 403 forbidden")
        .contains("tier 'high-stakes'");
    Run unknown = run((out, err) -> Main.explain(dir, req, "nobody", out, err));
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("no gateway key is named 'nobody'").contains("support-bot");
  }

  @Test
  void evalScoresAPolicyOnLabelledRequestsAndFailsOnAMissedThreshold(@TempDir Path dir) throws Exception {
    Files.copy(SHIPPED.resolve("gateway.yaml"), dir.resolve("gateway.yaml"));
    Files.writeString(dir.resolve("routing.yaml"), """
        defaultTier: trivial
        tiers:
          trivial: { targets: [local] }
          high-stakes: { targets: [gpt-4o] }
        rules:
          - name: legal
            tier: high-stakes
            when: { lastUserMessage: { keywords: [lawsuit] } }
        """);
    Path rows = dir.resolve("labelled.jsonl");
    Files.writeString(rows, """
        {"id": "a", "messages": [{"role": "user", "content": "I got a lawsuit notice"}], "label": "high-stakes"}
        {"id": "b", "messages": [{"role": "user", "content": "my landlord keeps my deposit"}], "label": "high-stakes"}
        {"request": {"messages": [{"role": "user", "content": "hello there"}]}, "tier": "trivial"}
        {"request": {"messages": [{"role": "user", "content": "a lawsuit in a novel I am writing"}]}, "tier": "trivial"}
        """);
    Run ok = run((out, err) -> EvalCommand.run(new String[] {"eval", dir.toString(), rows.toString()}, out, err));
    assertThat(ok.code()).as(ok.err()).isZero();
    assertThat(ok.out()).contains("4 requests")
        .containsPattern("trivial\\s+1\\s+1\\n").containsPattern("high-stakes\\s+1\\s+1\\n")
        .contains("high-stakes recall: 0.500 (1/2)", "routed below label: 0.250 (1/4)",
            "trivial sent to high-stakes: 0.500 (1/2)", "high-stakes routed below: b")
        .containsPattern("legal\\s+2").containsPattern("default\\s+2");
    // two trivial requests at $0 and two high-stakes ones at gpt-4o's price, against four at gpt-4o's
    assertThat(ok.out()).containsPattern("saving vs all high-stakes at the configured prices: 0\\.[45]\\d\\d");
    Run strict = run((out, err) -> EvalCommand.run(new String[] {"eval", dir.toString(), rows.toString(),
        "--min-recall", "0.9", "--max-below", "0.3", "--max-false-alarms", "0.1"}, out, err));
    assertThat(strict.code()).isEqualTo(1);
    assertThat(strict.err()).contains("FAIL: high-stakes recall 0.500 < --min-recall 0.900")
        .contains("FAIL: trivial sent to high-stakes 0.500 > --max-false-alarms 0.100")
        .doesNotContain("--max-below");
    Files.writeString(rows, "{\"request\": {\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}, "
        + "\"tier\": \"gold\"}\n");
    Run bad = run((out, err) -> EvalCommand.run(new String[] {"eval", dir.toString(), rows.toString()}, out, err));
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("labelled.jsonl:1: label 'gold' is not a tier (expected one of: trivial, high-stakes)");
  }
}
