package dev.llmgw.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every kind of bad input is reported with its path, the bad value and what was expected. */
class RuleCompilerTest {

  static final String HEAD = """
      defaultTier: trivial
      tiers:
        trivial: {targets: [local]}
        high-stakes: {targets: [gpt-4o, local]}
      """;

  static List<RuleProblem> problems(String yaml) {
    CompileResult r = RuleCompiler.compile(RoutingYamlReader.read(yaml),
        RoutingYamlReader.SHIPPED_TARGETS);
    assertThat(r.policyOrNull()).as("no policy when there are problems").isNull();
    assertThat(r.ok()).isFalse();
    return r.problems();
  }

  /** Problems of one rule whose condition is {@code when}. */
  static List<RuleProblem> when(String when) {
    return problems(HEAD + "rules:\n  - name: r\n    tier: trivial\n    when: " + when + "\n");
  }

  static void assertOne(List<RuleProblem> problems, String path, String... fragments) {
    assertThat(problems).as("problems").hasSize(1);
    assertThat(problems.get(0).path()).isEqualTo(path);
    assertThat(problems.get(0).message()).contains(fragments);
  }

  @Test
  void aValidPolicyCompilesWithoutProblems() {
    CompileResult r = RuleCompiler.compile(RoutingYamlReader.read(HEAD),
        RoutingYamlReader.SHIPPED_TARGETS);
    assertThat(r.ok()).isTrue();
    assertThat(r.problems()).isEmpty();
    assertThat(r.policyOrNull().rules()).isEmpty();
  }

  @Test
  void anEmptyFile() {
    CompileResult r = RuleCompiler.compile(null, Set.of("local"));
    assertOne(r.problems(), "", "empty file");
  }

  @Test
  void tiersAndDefaultTier() {
    assertThat(problems("version: 1\n")).extracting(RuleProblem::toString).containsExactly(
        "tiers: missing (expected at least one tier, e.g. trivial: {targets: [local]})",
        "defaultTier: missing (expected a tier: (none configured))");
    assertOne(problems(HEAD.replace("defaultTier: trivial", "defaultTier: cheap")), "defaultTier",
        "'cheap' is not a configured tier (expected one of: trivial, high-stakes)");
    assertOne(problems(HEAD + "  'bad tier': {targets: [local]}\n"), "tiers.bad tier",
        "'bad tier' is not a valid tier name");
  }

  @Test
  void tierTargets() {
    List<RuleProblem> p = problems("""
        defaultTier: a
        tiers:
          a: {targets: [gpt4o, local, local]}
          b: {}
          c: {targets: []}
          d:
        """);
    assertThat(p).extracting(RuleProblem::path).containsExactly("tiers.a.targets[0]",
        "tiers.a.targets[2]", "tiers.b.targets", "tiers.c.targets", "tiers.d.targets");
    assertThat(p.get(0).message()).isEqualTo("'gpt4o' is not a configured model (expected one "
        + "of: gpt-4o, gpt-4o-mini, local)");
    assertThat(p.get(1).message()).contains("'local' is listed twice (also tiers.a.targets[1]");
    assertThat(p.get(2).message()).startsWith("missing (expected a list of model aliases");
  }

  @Test
  void version() {
    assertOne(problems("version: one\n" + HEAD), "version",
        "'one' is not a version (expected a non-negative integer)");
    assertOne(problems("version: -1\n" + HEAD), "version", "'-1'");
  }

  @Test
  void models() {
    List<RuleProblem> p = problems(HEAD + """
        models:
          defaultMode: sometimes
          pinned: [gpt-4o, auto, gpt5]
          route: [gpt-4o]
        """);
    assertThat(p).extracting(RuleProblem::toString).containsExactly(
        "models.defaultMode: 'sometimes' is not a mode (expected pinned or route)",
        "models.pinned[1]: 'auto' is always routed by the rules (expected a configured model: "
            + "gpt-4o, gpt-4o-mini, local)",
        "models.pinned[2]: 'gpt5' is not a configured model (expected one of: gpt-4o, "
            + "gpt-4o-mini, local)",
        "models.route[0]: 'gpt-4o' is already listed at models.pinned[0] (expected each model in "
            + "at most one of pinned, route)");
  }

  @Test
  void forceTier() {
    assertOne(problems(HEAD + "forceTier: {header: x-gateway-tier}\n"), "forceTier.allowed",
        "missing (expected true or false)");
    assertOne(problems(HEAD + "forceTier: {allowed: sure}\n"), "forceTier.allowed",
        "'sure' is not a boolean (expected true or false)");
    assertOne(problems(HEAD + "forceTier: {header: 'x tier', allowed: true}\n"),
        "forceTier.header", "'x tier' is not a valid header name");
  }

  @Test
  void ruleNamesTiersAndConditions() {
    List<RuleProblem> p = problems(HEAD + """
        rules:
          - {tier: trivial, when: {tools: true}}
          - {name: default, tier: trivial, when: {tools: true}}
          - {name: a, tier: cheap, when: {tools: true}}
          - {name: a, tier: trivial, when: {tools: true}}
          - {name: 'has space', tier: trivial, when: {tools: true}}
          - {name: b, tier: trivial}
          -
        """);
    assertThat(p).extracting(RuleProblem::toString).containsExactly(
        "rules[0].name: missing (expected a unique rule name, e.g. legal-advice)",
        "rules[1].name: 'default' is reserved (expected a name other than "
            + "classifier-fallback, default, forced-by-header, pinned)",
        "rules[2].tier: 'cheap' is not a configured tier (expected one of: trivial, high-stakes)",
        "rules[3].name: 'a' is already the name of rules[2] (expected unique rule names)",
        "rules[4].name: 'has space' is not a valid rule name (expected letters, digits, '.', '_' "
            + "and '-', starting with a letter or digit)",
        "rules[5].when: missing (expected a condition: one of all, any, not, model, header, "
            + "metadata, user, promptTokens, messages, lastUserMessage, systemPrompt, anyMessage, "
            + "tools, jsonSchema, images, maxTokens, temperature, apiKey, team, semantic, judge)",
        "rules[6]: empty rule (expected name, tier and when)");
  }

  @Test
  void conditionsSetExactlyOneKind() {
    assertOne(when("{}"), "rules[0].when", "no condition");
    assertOne(when("{tools: true, images: true}"), "rules[0].when",
        "more than one condition in one entry: tools, images (expected exactly one; combine "
            + "conditions with all or any)");
    assertOne(when("{all: []}"), "rules[0].when.all",
        "empty list (expected at least one condition)");
    assertOne(when("{any: [{tools: true}, {}]}"), "rules[0].when.any[1]", "no condition");
  }

  @Test
  void nestingIsCapped() {
    String deep = "{tools: true}";
    for (int i = 0; i < ConditionCompiler.MAX_DEPTH; i++) {
      deep = "{not: " + deep + "}";
    }
    assertOne(when(deep), "rules[0].when" + ".not".repeat(ConditionCompiler.MAX_DEPTH),
        "nested more than 16 levels deep");
    String ok = "{tools: true}";
    for (int i = 0; i < ConditionCompiler.MAX_DEPTH - 1; i++) {
      ok = "{not: " + ok + "}";
    }
    assertThat(RuleCompiler.compile(RoutingYamlReader.read(HEAD + "rules:\n  - {name: r, "
        + "tier: trivial, when: " + ok + "}\n"), RoutingYamlReader.SHIPPED_TARGETS).ok()).isTrue();
  }

  @Test
  void modelGlobMustMatchAConfiguredModel() {
    assertOne(when("{model: 'gpt4o*'}"), "rules[0].when.model",
        "'gpt4o*' matches no configured model (expected one of: auto, gpt-4o, gpt-4o-mini, "
            + "local, or a glob matching one)");
    assertOne(when("{model: ''}"), "rules[0].when.model", "empty");
  }

  @Test
  void headerConditions() {
    assertOne(when("{header: {equals: x}}"), "rules[0].when.header.name",
        "missing (expected a header name, e.g. x-stakes)");
    assertOne(when("{header: {name: 'a b', equals: x}}"), "rules[0].when.header.name",
        "'a b' is not a valid header name");
    assertOne(when("{header: {name: x-a}}"), "rules[0].when.header",
        "no test (expected exactly one of: equals, in, regex, present)");
    assertOne(when("{header: {name: x-a, equals: x, regex: y}}"), "rules[0].when.header",
        "more than one test: equals, regex");
    assertOne(when("{header: {name: x-a, regex: '[a-'}}"), "rules[0].when.header.regex",
        "'[a-' is not a valid regex: ", "(expected a Java regular expression)");
    assertOne(when("{header: {name: x-a, in: []}}"), "rules[0].when.header.in",
        "empty list (expected at least one value)");
    assertOne(when("{header: {name: x-a, present: maybe}}"), "rules[0].when.header.present",
        "'maybe' is not a boolean (expected true or false)");
  }

  @Test
  void metadataUserAndIdentityConditions() {
    assertOne(when("{metadata: {equals: x}}"), "rules[0].when.metadata.key",
        "missing (expected a metadata key, e.g. stakes)");
    assertOne(when("{user: {}}"), "rules[0].when.user",
        "no test (expected exactly one of: equals, in, regex)");
    assertOne(when("{team: {in: [a, '']}}"), "rules[0].when.team.in[1]", "empty");
    assertOne(when("{apiKey: {equals: a, in: [b]}}"), "rules[0].when.apiKey",
        "more than one test: equals, in (expected exactly one of: equals, in, regex)");
  }

  @Test
  void rangeConditions() {
    assertOne(when("{promptTokens: {}}"), "rules[0].when.promptTokens",
        "no bound (expected at least one of: gt, gte, lt, lte)");
    assertOne(when("{messages: {gt: 1, gte: 2}}"), "rules[0].when.messages",
        "both gt and gte (expected at most one lower bound)");
    assertOne(when("{maxTokens: {lt: 1, lte: 2}}"), "rules[0].when.maxTokens",
        "both lt and lte");
    assertOne(when("{promptTokens: {gt: lots}}"), "rules[0].when.promptTokens.gt",
        "'lots' is not a non-negative integer (expected a non-negative integer, e.g. 2000)");
    assertOne(when("{promptTokens: {gt: 1.5}}"), "rules[0].when.promptTokens.gt", "'1.5'");
    assertOne(when("{messages: {gte: -1}}"), "rules[0].when.messages.gte", "'-1'");
    assertOne(when("{temperature: {lt: warm}}"), "rules[0].when.temperature.lt",
        "'warm' is not a number (expected a number, e.g. 0.7)");
    assertOne(when("{temperature: {gt: 1, lt: 0.5}}"), "rules[0].when.temperature",
        "'> 1 and < 0.5' matches no value");
    assertOne(when("{messages: {gt: 3, lte: 3}}"), "rules[0].when.messages", "matches no value");
  }

  @Test
  void textConditions() {
    assertOne(when("{lastUserMessage: {}}"), "rules[0].when.lastUserMessage",
        "no keywords or regex");
    assertOne(when("{systemPrompt: {keywords: []}}"), "rules[0].when.systemPrompt.keywords",
        "empty list (expected at least one keyword)");
    assertOne(when("{anyMessage: {keywords: [a, ' ']}}"), "rules[0].when.anyMessage.keywords[1]",
        "empty (expected a keyword)");
    for (String bad : List.of("*", "ta*x", "*tax*", "*side effect", "**")) {
      assertOne(when("{anyMessage: {keywords: ['" + bad + "']}}"),
          "rules[0].when.anyMessage.keywords[0]", "'" + bad + "' has a misplaced '*' (expected a "
              + "word or phrase, optionally ending in * as in diagnos*, or one word starting with "
              + "* as in *itis)");
    }
    assertOne(when("{anyMessage: {keywords: [Tax, audit, tax]}}"),
        "rules[0].when.anyMessage.keywords[2]",
        "'tax' is listed twice (also rules[0].when.anyMessage.keywords[0]; keywords are "
            + "case-insensitive)");
    assertOne(when("{lastUserMessage: {regex: '(unclosed'}}"),
        "rules[0].when.lastUserMessage.regex", "'(unclosed' is not a valid regex: Unclosed group");
  }

  @Test
  void flagConditions() {
    assertOne(when("{tools: yes please}"), "rules[0].when.tools",
        "'yes please' is not a boolean (expected true or false)");
    assertOne(when("{jsonSchema: 1}"), "rules[0].when.jsonSchema", "'1' is not a boolean");
    assertOne(when("{images: ''}"), "rules[0].when.images", "is not a boolean");
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    List<RuleProblem> p = problems("""
        version: x
        defaultTier: nope
        tiers:
          trivial: {targets: [local, gpt5]}
        forceTier: {allowed: perhaps}
        rules:
          - name: r1
            tier: high
            when:
              all:
                - header: {name: x-a, regex: '[a-'}
                - promptTokens: {gt: many}
                - any: [{model: 'gpt4o*'}, {tools: maybe}]
          - name: r1
            tier: trivial
            when: {lastUserMessage: {keywords: [a, A]}}
        """);
    assertThat(p).extracting(RuleProblem::path).containsExactly(
        "version", "tiers.trivial.targets[1]", "defaultTier", "forceTier.allowed", "rules[0].tier",
        "rules[0].when.all[0].header.regex", "rules[0].when.all[1].promptTokens.gt",
        "rules[0].when.all[2].any[0].model", "rules[0].when.all[2].any[1].tools", "rules[1].name",
        "rules[1].when.lastUserMessage.keywords[1]");
  }

  @Test
  void unknownKeysAreRejectedByTheBinder() {
    assertThatThrownBy(() -> RoutingYamlReader.read(HEAD + "rules:\n  - {name: r, tier: trivial, "
        + "when: {header: {name: x, equal: y}}}\n"))
        .hasMessageContaining("Unrecognized field \"equal\"");
  }
}
