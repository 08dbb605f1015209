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
}
