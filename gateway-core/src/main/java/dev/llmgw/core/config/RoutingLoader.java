package dev.llmgw.core.config;

import dev.llmgw.routing.CompileResult;
import dev.llmgw.routing.RoutingPolicy;
import dev.llmgw.routing.RuleCompiler;
import dev.llmgw.routing.RuleProblem;
import dev.llmgw.routing.raw.RoutingYaml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Loads {@code routing.yaml} into a compiled {@link RoutingPolicy}: bind (unknown keys refused),
 * then compile with the routing-rules module against the model aliases of the gateway config, and
 * report every problem with file, line, path and reason — the same shape as gateway.yaml's errors.
 * No environment substitution: the routing policy is plain data.
 */
public final class RoutingLoader {
  private RoutingLoader() {}

  /**
   * @param file    the routing file
   * @param gateway the gateway config whose aliases the tiers' targets name
   * @throws ConfigException listing every problem
   */
  public static RoutingPolicy load(Path file, GatewayConfig gateway) throws ConfigException {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException(List.of(new ConfigError(file, -1, "", "file not found")));
    } catch (IOException e) {
      throw new ConfigException(List.of(new ConfigError(file, -1, "", "cannot be read: " + e)));
    }
    return parse(file, text, gateway);
  }

  public static RoutingPolicy parse(Path source, String text, GatewayConfig gateway) throws ConfigException {
    Problems problems = new Problems(source);
    LocationIndex index = LocationIndex.build(text, problems);
    if (index == null) {
      throw problems.exception();
    }
    problems.useIndex(index);
    if (index.isEmpty()) {
      problems.addAt(-1, "", "no routing policy (expected defaultTier, tiers and rules)");
      throw problems.exception();
    }
    RoutingYaml raw = RawBinder.bind(text, RoutingYaml.class, problems);
    if (raw == null) {
      throw problems.exception();
    }
    // compile even after binding problems (unknown keys, wrong shapes): every problem is reported at once
    CompileResult result = RuleCompiler.compile(raw, Set.copyOf(gateway.models().keySet()));
    for (RuleProblem p : result.problems()) {
      problems.add(p.path(), p.message());
    }
    if (problems.hasErrors() || result.policyOrNull() == null) {
      throw problems.exception();
    }
    return result.policyOrNull();
  }
}
