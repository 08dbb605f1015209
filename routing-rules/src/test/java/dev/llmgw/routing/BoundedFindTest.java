package dev.llmgw.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Regex searches of the rules with a budget: runaway patterns give up, linear ones are untouched. */
class BoundedFindTest {
  static final int MIB = 1 << 20;

  @Test
  void aBacktrackingPatternGivesUpOnAMebibyteInsteadOfRunningForMinutes() {
    // unbounded, this search is quadratic: 0.8 s on 20 KB, minutes on a mebibyte
    Pattern runaway = Pattern.compile("(?:\\D*\\d+){3}");
    String noDigits = "x".repeat(MIB);
    long before = BoundedFind.abandoned();
    assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
      assertThat(BoundedFind.find(runaway, noDigits)).isNull();
    });
    assertThat(BoundedFind.abandoned()).isEqualTo(before + 1);
    assertThat(BoundedFind.abandons(runaway, noDigits)).isTrue();
    // the same pattern on a short text is searched in full, and matches
    assertThat(BoundedFind.find(runaway, "1 apple, 2 pears, 3 plums")).isNotNull();
    assertThat(BoundedFind.abandoned()).isEqualTo(before + 1);
  }

  @Test
  void linearPatternsFindWhatTheyFindWithoutABudgetAnywhereInAMebibyte() {
    String text = "lorem ipsum ".repeat(MIB / 12) + "see CVE-2024-12345 for details";
    Pattern cve = Pattern.compile("(?i)\\bCVE-\\d{4}-\\d+");
    long before = BoundedFind.abandoned();
    Matcher m = BoundedFind.find(cve, text);
    assertThat(m).isNotNull();
    assertThat(m.group()).isEqualTo("CVE-2024-12345");
    Pattern lazy = Pattern.compile("(?is)\\b\\d+\\b.*?\\b\\d+\\b");
    assertThat(BoundedFind.find(lazy, "7 " + "y ".repeat(MIB / 2) + "9")).isNotNull();
    assertThat(BoundedFind.find(Pattern.compile("\\A(?:\\D*+\\d++){3}"), "z".repeat(MIB))).isNull();
    assertThat(BoundedFind.abandoned()).as("none of these spent its budget").isEqualTo(before);
  }

  @Test
  void aGroupIsReadFromTheTextItself() {
    Matcher m = BoundedFind.find(Pattern.compile("(\\w+)@(\\w+)"), "write to ops@example now");
    assertThat(m).isNotNull();
    assertThat(m.group(1)).isEqualTo("ops");
    assertThat(m.group(2)).isEqualTo("example");
  }

  @Test
  void explainSaysTheSearchGaveUp() throws Exception {
    RoutingPolicy policy = RoutingYamlReader.policy("""
        version: 1
        defaultTier: cheap
        tiers:
          cheap: {targets: [local]}
          strong: {targets: [gpt-4o]}
        rules:
          - name: three-numbers
            tier: strong
            when: {lastUserMessage: {regex: '(?:\\D*\\d+){3}'}}
        """);
    RequestFeatures f = RoutingPolicyTest.chat("no digits here ".repeat(4000));
    RouteDecision d = policy.explain(f);
    assertThat(d.tier()).isEqualTo("cheap");
    assertThat(d.trace().get(0).detail()).contains("gave up");
  }
}
