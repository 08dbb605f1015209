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
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
  /** A compiled routing file: the policy, and each tier's timeout overrides. */
  public record Loaded(RoutingPolicy policy, Map<String, TimeoutOverrides> tierTimeouts,
      dev.llmgw.core.route.ClassifierSettings classifier) {}

  public static RoutingPolicy load(Path file, GatewayConfig gateway) throws ConfigException {
    return loadAll(file, gateway).policy();
  }

  public static RoutingPolicy parse(Path source, String text, GatewayConfig gateway) throws ConfigException {
    return parseAll(source, text, gateway).policy();
  }

  public static Loaded loadAll(Path file, GatewayConfig gateway) throws ConfigException {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException(List.of(new ConfigError(file, -1, "", "file not found")));
    } catch (IOException e) {
      throw new ConfigException(List.of(new ConfigError(file, -1, "", "cannot be read: " + e)));
    }
    return parseAll(file, text, gateway);
  }

  public static Loaded parseAll(Path source, String text, GatewayConfig gateway) throws ConfigException {
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
    Path dir = source.toAbsolutePath().getParent();
    CompileResult result = RuleCompiler.compile(raw, Set.copyOf(gateway.models().keySet()),
        dir == null ? Path.of(".") : dir);
    for (RuleProblem p : result.problems()) {
      if (p.file() != null) {
        problems.addIn(p.file(), p.line(), p.path(), p.message());
      } else {
        problems.add(p.path(), p.message());
      }
    }
    Map<String, TimeoutOverrides> timeouts = tierTimeouts(raw, problems);
    dev.llmgw.core.route.ClassifierSettings classifier = classifierSettings(raw, problems);
    if (result.policyOrNull() != null) {
      cacheTiers(gateway, result.policyOrNull().tiers(), problems);
    }
    if (problems.hasErrors() || result.policyOrNull() == null) {
      throw problems.exception();
    }
    return new Loaded(result.policyOrNull(), timeouts, classifier);
  }

  /** gateway.yaml's {@code cache.tiers} must name tiers of this file (reported at their line in gateway.yaml). */
  private static void cacheTiers(GatewayConfig gateway, List<String> tiers, Problems problems) {
    gateway.cache().tierLines().forEach((tier, line) -> {
      if (!tiers.contains(tier)) {
        problems.addIn(gateway.source(), line, "cache.tiers", "'" + tier + "' is not a tier of "
            + problems.file().getFileName() + " (expected one of: " + String.join(", ", tiers) + ")");
      }
    });
  }

  private static dev.llmgw.core.route.ClassifierSettings classifierSettings(RoutingYaml raw, Problems problems) {
    dev.llmgw.core.route.ClassifierSettings d = dev.llmgw.core.route.ClassifierSettings.DEFAULTS;
    var c = raw.classifier();
    if (c == null) {
      return d;
    }
    Duration semantic = d.semanticTimeout();
    if (c.semantic() != null && c.semantic().timeout() != null) {
      semantic = positive(problems, "classifier.semantic.timeout", c.semantic().timeout(), semantic);
    }
    Duration judge = d.judgeTimeout();
    int cache = d.judgeCacheSize();
    if (c.judge() != null) {
      if (c.judge().timeout() != null) {
        judge = positive(problems, "classifier.judge.timeout", c.judge().timeout(), judge);
      }
      cache = count(problems, "classifier.judge.cacheSize", c.judge().cacheSize(), cache, 0, 10_000_000);
    }
    int threads = count(problems, "classifier.threads", c.threads(), d.threads(), 1, 64);
    int queue = count(problems, "classifier.queue", c.queue(), d.queue(), 0, 100_000);
    return new dev.llmgw.core.route.ClassifierSettings(semantic, judge, cache, threads, queue);
  }

  private static Duration positive(Problems problems, String path, String raw, Duration fallback) {
    Duration v = problems.required(path, raw, "a duration, " + ConfigValues.DURATION_EXPECTED,
        ConfigValues::duration);
    if (v == null) {
      return fallback;
    }
    if (v.isZero() || v.isNegative()) {
      problems.add(path, "'" + raw + "' is not a positive duration (expected e.g. 250ms)");
      return fallback;
    }
    return v;
  }

  private static int count(Problems problems, String path, String raw, int fallback, int min, int max) {
    if (raw == null) {
      return fallback;
    }
    try {
      int v = Integer.parseInt(raw.strip());
      if (v >= min && v <= max) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    problems.add(path, "'" + raw + "' is not a count (expected an integer from " + min + " to " + max + ")");
    return fallback;
  }

  private static final List<String> OVERRIDABLE = List.of("firstByte", "idle", "total");

  private static Map<String, TimeoutOverrides> tierTimeouts(RoutingYaml raw, Problems problems) {
    Map<String, TimeoutOverrides> out = new LinkedHashMap<>();
    if (raw.tiers() == null) {
      return out;
    }
    raw.tiers().forEach((tier, t) -> {
      if (t == null || t.timeouts() == null) {
        return;
      }
      String base = YamlPath.child(YamlPath.child("tiers", tier), "timeouts");
      Map<String, Duration> d = new LinkedHashMap<>();
      t.timeouts().forEach((k, v) -> {
        String path = YamlPath.child(base, k);
        if (!OVERRIDABLE.contains(k)) {
          problems.add(path, "'" + k + "' cannot be overridden per tier (expected one of: "
              + String.join(", ", OVERRIDABLE) + "; connect stays per backend)");
          return;
        }
        Duration parsed = problems.required(path, v, "a duration, " + ConfigValues.DURATION_EXPECTED,
            ConfigValues::duration);
        if (parsed != null) {
          d.put(k, parsed);
        }
      });
      out.put(tier, new TimeoutOverrides(d.get("firstByte"), d.get("idle"), d.get("total")));
    });
    return out;
  }
}
