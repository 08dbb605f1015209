package dev.llmgw.routing;

import static dev.llmgw.routing.Problems.child;
import static dev.llmgw.routing.Problems.element;
import static dev.llmgw.routing.Problems.oneOf;
import static dev.llmgw.routing.Problems.quote;
import static java.util.Objects.requireNonNull;

import dev.llmgw.routing.raw.ForceTierYaml;
import dev.llmgw.routing.raw.RoutingYaml;
import dev.llmgw.routing.raw.RuleYaml;
import dev.llmgw.routing.raw.TierYaml;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Checks a bound {@link RoutingYaml} and compiles it into an immutable {@link RoutingPolicy}:
 * tiers and their targets resolved against the configured model aliases, rule conditions compiled
 * (regexes and keyword sets built here, once), pinning and forcing settled. Every problem is
 * reported, each with its path, the bad value and what was expected; no policy is built when there
 * is any.
 */
public final class RuleCompiler {

  /** Tier and rule names: they travel in response headers and metric labels. */
  static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");
  static final String NAME_EXPECTED = "letters, digits, '.', '_' and '-', starting with a letter "
      + "or digit";
  static final String DEFAULT_FORCE_HEADER = "x-gateway-tier";
  static final Set<String> RESERVED_RULES =
      Set.of(RouteDecision.DEFAULT, RouteDecision.FORCED, RouteDecision.PINNED,
          RouteDecision.FALLBACK);

  private final Problems problems = new Problems();
  private final TreeSet<String> known;

  private RuleCompiler(Set<String> knownTargets) {
    this.known = new TreeSet<>(knownTargets);
  }

  /**
   * @param raw          the bound file ({@code null} for an empty file)
   * @param knownTargets the model aliases configured in {@code gateway.yaml}
   */
  public static CompileResult compile(RoutingYaml raw, Set<String> knownTargets) {
    return compile(raw, knownTargets, Path.of("."));
  }

  /**
   * @param raw          the bound file ({@code null} for an empty file)
   * @param knownTargets the model aliases configured in {@code gateway.yaml}
   * @param baseDir      the directory of {@code routing.yaml}: example and model files are relative
   *                     to it
   */
  public static CompileResult compile(RoutingYaml raw, Set<String> knownTargets, Path baseDir) {
    requireNonNull(knownTargets, "knownTargets");
    requireNonNull(baseDir, "baseDir");
    RuleCompiler c = new RuleCompiler(knownTargets);
    c.baseDir = baseDir;
    return c.run(raw);
  }

  private Path baseDir;

  private CompileResult run(RoutingYaml raw) {
    if (raw == null) {
      problems.add("", "empty file (expected defaultTier, tiers and rules)");
      return new CompileResult(null, problems.list());
    }
    Integer version = version(raw.version());
    Map<String, List<String>> tiers = tiers(raw.tiers());
    String defaultTier = tierRef(raw.defaultTier(), "defaultTier", tiers);
    Set<String> pinned = new ModelModes(problems, known).pinnedAliases(raw.models());
    String forceHeader = forceHeader(raw.forceTier());
    ClassifierCompiler classifierCompiler =
        new ClassifierCompiler(problems, baseDir, List.copyOf(tiers.keySet()), known);
    ClassifierCompiler.Parts parts = classifierCompiler.parts(raw.classifier(), raw.tiers());
    List<CompiledRule> rules = rules(raw.rules(), tiers, parts);
    Classifier classifier = problems.isEmpty() ? classifierCompiler.build(parts) : null;
    if (!problems.isEmpty()) {
      return new CompileResult(null, problems.list());
    }
    RoutingPolicy policy = new RoutingPolicy(version, defaultTier, tiers, rules, pinned,
        forceHeader, classifier);
    return new CompileResult(policy, List.of());
  }

  private Integer version(String raw) {
    if (raw == null) {
      return 0;
    }
    try {
      int v = Integer.parseInt(raw.strip());
      if (v >= 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    problems.add("version", quote(raw) + " is not a version (expected a non-negative integer)");
    return null;
  }

  private Map<String, List<String>> tiers(Map<String, TierYaml> raw) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      problems.add("tiers", "missing (expected at least one tier, e.g. trivial: {targets: [local]})");
      return out;
    }
    raw.forEach((name, tier) -> {
      String path = child("tiers", name);
      boolean ok = name(name, path, "tier name");
      List<String> targets = targets(tier, path);
      if (ok) {
        // a tier with bad targets is still a tier: references to it are not reported again
        out.put(name, targets == null ? List.of() : targets);
      }
    });
    return out;
  }

  private List<String> targets(TierYaml tier, String path) {
    String at = child(path, "targets");
    if (tier == null || tier.targets() == null || tier.targets().isEmpty()) {
      problems.add(at, "missing (expected a list of model aliases, primary first, e.g. "
          + "[gpt-4o-mini, local]; configured: " + oneOf(known) + ")");
      return null;
    }
    List<String> out = new ArrayList<>();
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < tier.targets().size(); i++) {
      String t = tier.targets().get(i);
      String e = element(at, i);
      if (t == null || !known.contains(t.strip())) {
        problems.add(e, quote(t) + " is not a configured model (expected one of: " + oneOf(known)
            + ")");
      } else if (seen.putIfAbsent(t.strip(), i) != null) {
        problems.add(e, quote(t) + " is listed twice (also " + element(at, seen.get(t.strip()))
            + "; expected each target once)");
      } else {
        out.add(t.strip());
      }
    }
    return out.size() == tier.targets().size() ? out : null;
  }

  /** Checks a tier or rule name; records a problem and returns false when it is not valid. */
  private boolean name(String name, String path, String what) {
    if (name == null || !NAME.matcher(name).matches()) {
      problems.add(path, quote(name) + " is not a valid " + what + " (expected " + NAME_EXPECTED
          + ")");
      return false;
    }
    return true;
  }

  /** A reference to a configured tier, or {@code null} after recording a problem. */
  private String tierRef(String raw, String path, Map<String, List<String>> tiers) {
    if (raw == null || raw.isBlank()) {
      problems.add(path, "missing (expected a tier: " + oneOf(tiers.keySet()) + ")");
      return null;
    }
    String t = raw.strip();
    if (!tiers.containsKey(t)) {
      problems.add(path, quote(raw) + " is not a configured tier (expected one of: "
          + oneOf(tiers.keySet()) + ")");
      return null;
    }
    return t;
  }

  private String forceHeader(ForceTierYaml f) {
    if (f == null) {
      return null;
    }
    String header = f.header() == null ? DEFAULT_FORCE_HEADER
        : LeafCompiler.headerName(f.header(), "forceTier.header", problems);
    if (f.allowed() == null) {
      problems.add("forceTier.allowed", "missing (expected true or false)");
      return null;
    }
    Boolean allowed = new LeafCompiler(problems).bool(f.allowed(), "forceTier.allowed");
    return Boolean.TRUE.equals(allowed) ? header : null;
  }

  private List<CompiledRule> rules(List<RuleYaml> raw, Map<String, List<String>> tiers,
      ClassifierCompiler.Parts parts) {
    List<CompiledRule> out = new ArrayList<>();
    if (raw == null) {
      return out;
    }
    List<String> models = new ArrayList<>();
    models.add("auto");
    models.addAll(known);
    ConditionCompiler conditions = new ConditionCompiler(problems, models,
        List.copyOf(tiers.keySet()), parts.semantic(), parts.secondOpinionTiers(), parts.judge());
    Map<String, Integer> names = new HashMap<>();
    for (int i = 0; i < raw.size(); i++) {
      String path = element("rules", i);
      RuleYaml r = raw.get(i);
      if (r == null) {
        problems.add(path, "empty rule (expected name, tier and when)");
        continue;
      }
      String name = ruleName(r.name(), child(path, "name"), names, i);
      String tier = tierRef(r.tier(), child(path, "tier"), tiers);
      Condition when = conditions.compile(r.when(), child(path, "when"), 1);
      if (name != null && tier != null && when != null) {
        out.add(new CompiledRule(name, tier, when,
            DecisionTable.routed(tier, name, tiers.get(tier))));
      }
    }
    return out;
  }

  private String ruleName(String raw, String path, Map<String, Integer> names, int index) {
    if (raw == null) {
      problems.add(path, "missing (expected a unique rule name, e.g. legal-advice)");
      return null;
    }
    String name = raw.strip();
    if (!name(name, path, "rule name")) {
      return null;
    }
    if (RESERVED_RULES.contains(name.toLowerCase(Locale.ROOT))) {
      problems.add(path, quote(name) + " is reserved (expected a name other than "
          + String.join(", ", new TreeSet<>(RESERVED_RULES)) + ")");
      return null;
    }
    Integer first = names.putIfAbsent(name, index);
    if (first != null) {
      problems.add(path, quote(name) + " is already the name of rules[" + first
          + "] (expected unique rule names)");
      return null;
    }
    return name;
  }
}
