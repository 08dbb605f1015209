package dev.llmgw.routing;

import static dev.llmgw.routing.Problems.child;
import static dev.llmgw.routing.Problems.element;
import static dev.llmgw.routing.Problems.oneOf;

import dev.llmgw.routing.raw.ConditionYaml;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * Compiles one {@link ConditionYaml} tree: checks that each node sets exactly one condition kind,
 * caps the nesting of {@code all}/{@code any}/{@code not} at {@value #MAX_DEPTH} levels, and hands the
 * leaves to {@link LeafCompiler}. Every problem is recorded; a node with a problem compiles to
 * {@code null} (no policy is built then).
 */
final class ConditionCompiler {

  static final int MAX_DEPTH = 16;

  /** The condition kinds, in {@link ConditionYaml} component order. */
  static final List<String> KINDS = List.of("all", "any", "not", "model", "header", "metadata",
      "user", "promptTokens", "messages", "lastUserMessage", "systemPrompt", "anyMessage", "tools",
      "jsonSchema", "images", "maxTokens", "temperature", "apiKey", "team", "semantic", "judge");

  private final Problems problems;
  private final Collection<String> models;
  private final LeafCompiler leaves;
  private final List<String> tiers;
  private final boolean semantic;
  private final Set<String> secondOpinionTiers;
  private final boolean judge;

  /**
   * @param models   the names a {@code model} glob may match: {@code auto} and the known targets
   * @param tiers    the configured tiers, in order
   * @param semantic whether {@code classifier.semantic} is configured
   * @param secondOpinionTiers the tiers whose semantic conditions may ask the second opinion
   * @param judge    whether {@code classifier.judge} is configured
   */
  ConditionCompiler(Problems problems, Collection<String> models, List<String> tiers,
      boolean semantic, Set<String> secondOpinionTiers, boolean judge) {
    this.problems = problems;
    this.models = models;
    this.leaves = new LeafCompiler(problems);
    this.tiers = tiers;
    this.semantic = semantic;
    this.secondOpinionTiers = secondOpinionTiers;
    this.judge = judge;
  }

  /** @param depth 1 for a rule's {@code when} */
  Condition compile(ConditionYaml c, String path, int depth) {
    if (c == null) {
      problems.add(path, "missing (expected a condition: one of " + oneOf(KINDS) + ")");
      return null;
    }
    if (depth > MAX_DEPTH) {
      problems.add(path, "conditions nested more than " + MAX_DEPTH
          + " levels deep (expected at most " + MAX_DEPTH + " levels of all/any/not)");
      return null;
    }
    List<String> set = setKinds(c);
    if (set.size() != 1) {
      problems.add(path, set.isEmpty()
          ? "no condition (expected exactly one of: " + oneOf(KINDS) + ")"
          : "more than one condition in one entry: " + String.join(", ", set)
              + " (expected exactly one; combine conditions with all or any)");
      return null;
    }
    String kind = set.get(0);
    String at = child(path, kind);
    switch (kind) {
      case "all":
        return list(c.all(), at, depth, true);
      case "any":
        return list(c.any(), at, depth, false);
      case "not":
        Condition inner = compile(c.not(), at, depth + 1);
        return inner == null ? null : new Combinators.Not(inner);
      case "model":
        return model(c.model(), at);
      case "header":
        return leaves.header(c.header(), at);
      case "metadata":
        return leaves.metadata(c.metadata(), at);
      case "user":
        return leaves.user(c.user(), at);
      case "apiKey":
        return leaves.identity(FieldCondition.Field.API_KEY, c.apiKey(), at);
      case "team":
        return leaves.identity(FieldCondition.Field.TEAM, c.team(), at);
      case "promptTokens":
        return leaves.range(RangeCondition.Feature.PROMPT_TOKENS, c.promptTokens(), at);
      case "messages":
        return leaves.range(RangeCondition.Feature.MESSAGES, c.messages(), at);
      case "maxTokens":
        return leaves.range(RangeCondition.Feature.MAX_TOKENS, c.maxTokens(), at);
      case "temperature":
        return leaves.range(RangeCondition.Feature.TEMPERATURE, c.temperature(), at);
      case "lastUserMessage":
        return leaves.text(TextCondition.Feature.LAST_USER_MESSAGE, c.lastUserMessage(), at);
      case "systemPrompt":
        return leaves.text(TextCondition.Feature.SYSTEM_PROMPT, c.systemPrompt(), at);
      case "anyMessage":
        return leaves.text(TextCondition.Feature.ANY_MESSAGE, c.anyMessage(), at);
      case "tools":
        return leaves.flag(FlagCondition.Feature.TOOLS, c.tools(), at);
      case "jsonSchema":
        return leaves.flag(FlagCondition.Feature.JSON_SCHEMA, c.jsonSchema(), at);
      case "semantic":
        return semantic(c.semantic(), at);
      case "judge":
        return judge(c.judge(), at);
      default:
        return leaves.flag(FlagCondition.Feature.IMAGES, c.images(), at);
    }
  }

  private Condition list(List<ConditionYaml> items, String path, int depth, boolean all) {
    if (items.isEmpty()) {
      problems.add(path, "empty list (expected at least one condition)");
      return null;
    }
    List<Condition> out = new ArrayList<>(items.size());
    boolean ok = true;
    for (int i = 0; i < items.size(); i++) {
      Condition c = compile(items.get(i), element(path, i), depth + 1);
      ok &= c != null;
      out.add(c);
    }
    if (!ok) {
      return null;
    }
    return all ? new Combinators.All(out) : new Combinators.Any(out);
  }

  private Condition model(String glob, String path) {
    if (glob.isBlank()) {
      problems.add(path, "empty (expected a model name or glob, e.g. gpt-4o* or auto)");
      return null;
    }
    String g = glob.strip();
    ModelCondition c = new ModelCondition(g);
    if (models.stream().noneMatch(c::matches)) {
      problems.add(path, "'" + g + "' matches no configured model (expected one of: "
          + oneOf(models) + ", or a glob matching one)");
      return null;
    }
    return c;
  }

  private Condition semantic(dev.llmgw.routing.raw.SemanticConditionYaml c, String path) {
    if (!semantic) {
      problems.add(path, "no semantic classifier is configured (expected classifier.semantic with "
          + "a model and example files)");
      return null;
    }
    String tier = tier(c.tier(), child(path, "tier"));
    Double min = score(c.minScore(), child(path, "minScore"), true);
    Double margin = score(c.margin(), child(path, "margin"), false);
    if (tier == null || min == null || (c.margin() != null && margin == null)) {
      return null;
    }
    return new SemanticCondition(tier, tiers.indexOf(tier), min,
        margin == null ? Double.NaN : margin, secondOpinionTiers.contains(tier));
  }

  private Condition judge(String tier, String path) {
    if (!judge) {
      problems.add(path, "no judge is configured (expected classifier.judge with a model)");
      return null;
    }
    String t = tier(tier, path);
    return t == null ? null : new JudgeCondition(t);
  }

  private String tier(String raw, String path) {
    if (raw == null || raw.isBlank()) {
      problems.add(path, "missing (expected a tier: " + oneOf(tiers) + ")");
      return null;
    }
    if (!tiers.contains(raw.strip())) {
      problems.add(path, "'" + raw + "' is not a configured tier (expected one of: "
          + oneOf(tiers) + ")");
      return null;
    }
    return raw.strip();
  }

  /** A similarity in [-1, 1]. */
  private Double score(String raw, String path, boolean required) {
    if (raw == null) {
      if (required) {
        problems.add(path, "missing (expected a similarity between -1 and 1, e.g. 0.6)");
      }
      return null;
    }
    try {
      double d = Double.parseDouble(raw.strip());
      if (d >= -2 && d <= 2 && !Double.isNaN(d)) {
        return d;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    problems.add(path, "'" + raw + "' is not a similarity (expected a number between -1 and 1"
        + (required ? "" : ", or between -2 and 2 for a margin") + ")");
    return null;
  }

  private static List<String> setKinds(ConditionYaml c) {
    Object[] values = {c.all(), c.any(), c.not(), c.model(), c.header(), c.metadata(), c.user(),
        c.promptTokens(), c.messages(), c.lastUserMessage(), c.systemPrompt(), c.anyMessage(),
        c.tools(), c.jsonSchema(), c.images(), c.maxTokens(), c.temperature(), c.apiKey(),
        c.team(), c.semantic(), c.judge()};
    List<String> set = new ArrayList<>(1);
    for (int i = 0; i < values.length; i++) {
      if (values[i] != null) {
        set.add(KINDS.get(i));
      }
    }
    return set;
  }
}
