package dev.llmgw.bench.jmh;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.llmgw.routing.CompileResult;
import dev.llmgw.routing.FeatureExtractor;
import dev.llmgw.routing.RouteDecision;
import dev.llmgw.routing.RoutingPolicy;
import dev.llmgw.routing.RuleCompiler;
import dev.llmgw.routing.raw.RoutingYaml;
import dev.llmgw.routing.raw.TierYaml;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Tier classification: {@link FeatureExtractor#extract} + {@link RoutingPolicy#decide} with the shipped
 * {@code config/routing.yaml} (or {@code -Dbench.routing=FILE}) on a request whose model is
 * {@code auto}, so every rule is evaluated until one matches (the ~1 KB body matches none: worst case).
 * Rules only: the policy's {@code classifier} section and the rules that read a signal (semantic,
 * judge) are left out, so this measures what a rules-only policy costs, on any commit (before the
 * classifier existed too, for {@code BENCH_REF} comparisons); bench/semantic.sh measures the
 * classifier itself.
 *
 * <p>Compiled only when routing-rules has a {@code RoutingPolicy} (Maven profile in bench/jmh/pom.xml).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ClassificationBench {

  @Param({"1KB", "32KB"})
  public String size;

  private RoutingPolicy policy;
  private JsonNode body;
  private final Function<String, String> noHeaders = name -> null;

  @Setup
  public void setup() throws Exception {
    Path file = Path.of(System.getProperty("bench.routing", "config/routing.yaml"));
    YAMLMapper yaml = YAMLMapper.builder()
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
        .build();
    RoutingYaml raw = yaml.readValue(rulesOnly(Files.readString(file)), RoutingYaml.class);
    Set<String> targets = new HashSet<>();
    for (TierYaml t : raw.tiers().values()) {
      targets.addAll(t.targets());
    }
    CompileResult r = RuleCompiler.compile(raw, targets);
    if (!r.ok()) {
      throw new IllegalStateException(file + " does not compile: " + r.problems());
    }
    policy = r.policyOrNull();
    FeatureExtractor.warmUp();
    byte[] b = "1KB".equals(size) ? Bodies.small("auto") : Bodies.large("auto");
    body = new ObjectMapper().readTree(b);
  }

  /** The policy text without the classifier section and without rules that read a signal. */
  static String rulesOnly(String text) {
    StringBuilder out = new StringBuilder();
    boolean skipSection = false;
    List<String> rule = new ArrayList<>();
    for (String line : (text + "\n").split("\n")) {
      if (line.startsWith("classifier:")) {
        skipSection = true;
        continue;
      }
      if (skipSection && !line.isEmpty() && !line.startsWith(" ") && !line.startsWith("#")) {
        skipSection = false;
      }
      if (skipSection || line.strip().startsWith("- not: {semantic:")) {
        continue; // the section, and the keyword rules' harmless-text guard: both read the classifier
      }
      if (line.startsWith("  - name: ") || !line.startsWith(" ") && !line.isEmpty()) {
        flush(out, rule);
      }
      if (line.startsWith("  - name: ") || !rule.isEmpty()) {
        rule.add(line);
      } else {
        out.append(line).append('\n');
      }
    }
    flush(out, rule);
    return out.toString();
  }

  private static void flush(StringBuilder out, List<String> rule) {
    String r = String.join("\n", rule);
    if (!rule.isEmpty() && !r.contains("semantic:") && !r.contains("judge:")) {
      out.append(r).append('\n');
    }
    rule.clear();
  }

  @Benchmark
  public RouteDecision extractAndDecide() {
    return policy.decide(FeatureExtractor.extract(body, noHeaders, null, null));
  }
}
