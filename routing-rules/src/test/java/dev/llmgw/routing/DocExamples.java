package dev.llmgw.routing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fenced blocks of docs/routing-rules.md that are test cases: {@code yaml example:NAME} (a
 * whole routing.yaml), {@code yaml cases:NAME} (a case table for it), {@code yaml condition} (one
 * condition, as written under {@code when:}), and {@code json request:shipped} with the
 * {@code text trace:shipped} the shipped policy gives it.
 */
final class DocExamples {

  static final Path DOC = Path.of("..", "docs", "routing-rules.md");
  private static final Pattern BLOCK = Pattern.compile(
      "(?ms)^```(?:yaml|json|text) ([a-z]+)(?::([\\w-]+))?\\s*$\\n(.*?)^```\\s*$");

  final Map<String, String> examples = new LinkedHashMap<>();
  final Map<String, String> cases = new LinkedHashMap<>();
  final List<String> conditions = new ArrayList<>();
  final Map<String, String> requests = new LinkedHashMap<>();
  final Map<String, String> traces = new LinkedHashMap<>();

  static DocExamples load() {
    String doc;
    try {
      doc = Files.readString(DOC);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    DocExamples out = new DocExamples();
    Matcher m = BLOCK.matcher(doc);
    while (m.find()) {
      switch (m.group(1)) {
        case "example" -> out.examples.put(m.group(2), m.group(3));
        case "cases" -> out.cases.put(m.group(2), m.group(3));
        case "condition" -> out.conditions.add(m.group(3));
        case "request" -> out.requests.put(m.group(2), m.group(3));
        case "trace" -> out.traces.put(m.group(2), m.group(3));
        default -> throw new IllegalStateException("unknown doc block kind: " + m.group(1));
      }
    }
    return out;
  }

  /** A condition block as the {@code when} of the only rule of a minimal policy. */
  static String policyWith(String condition) {
    StringBuilder sb = new StringBuilder("""
        defaultTier: trivial
        tiers:
          trivial: {targets: [local]}
          balanced: {targets: [gpt-4o-mini]}
          high-stakes: {targets: [gpt-4o]}
        classifier:
          semantic: {examples: [src/test/resources/golden/golden-examples.jsonl]}
          judge: {model: gpt-4o-mini}
        rules:
          - name: example
            tier: trivial
            when:
        """);
    condition.lines().forEach(l -> sb.append("          ").append(l).append('\n'));
    return sb.toString();
  }
}
