package dev.llmgw.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The {@code auth} section, the keys file and the connection limits: compiled into {@link Access}. */
class AccessConfigTest {

  static final String TEST_HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  static final String BASE = """
      backends:
        local:
          baseUrl: http://127.0.0.1:8081/v1
          models: [local-model]
      models:
        local:
          backend: local
          model: local-model
      """;

  static ConfigException failure(Path source, String yaml, Map<String, String> env) {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> ConfigLoader.parse(source, yaml, env));
    assertThat(e).as("expected a ConfigException").isNotNull();
    return e;
  }

  static List<ConfigError> errorsOf(String yaml) {
    return failure(Path.of("gateway.yaml"), yaml, Map.of()).errors();
  }

  @Test
  void sha256HexIsWhatSha256sumPrints() {
    // printf %s test | sha256sum
    assertThat(Secrets.sha256Hex("test")).isEqualTo(TEST_HASH);
    assertThat(Secrets.sha256Hex("")).isEqualTo(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assertThat(Secrets.sha256Hex("é")).as("UTF-8 bytes").isEqualTo(
        "4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c");
  }

  @Test
  void theShippedFileIsExplicitlyOpen() throws Exception {
    GatewayConfig c = ConfigLoader.load(ConfigLoaderTest.SHIPPED, Map.of());

    Access a = c.access();
    assertThat(a.open()).isTrue();
    assertThat(a.adminTokenSha256()).isNull();
    assertThat(a.protectMetrics()).isFalse();
    assertThat(a.keys()).isEmpty();
    assertThat(a.teams()).isEmpty();
    assertThat(a.connections()).isEqualTo(new Access.ConnectionLimits(10_000, Duration.ofSeconds(30)));
    assertThat(a).isEqualTo(Access.openAccess());
  }

  @Test
  void theShippedFileHashesTheAdminTokenFromTheEnvironment() throws Exception {
    GatewayConfig c = ConfigLoader.load(ConfigLoaderTest.SHIPPED,
        Map.of("GATEWAY_ADMIN_TOKEN", "test"));

    assertThat(c.access().adminTokenSha256()).isEqualTo(TEST_HASH);
    assertThat(ConfigLoader.load(ConfigLoaderTest.SHIPPED, Map.of("GATEWAY_ADMIN_TOKEN", " "))
        .access().adminTokenSha256()).as("empty: admin endpoints disabled").isNull();
    assertThat(ConfigLoader.load(ConfigLoaderTest.SHIPPED, Map.of("GATEWAY_ADMIN_TOKEN", " test\t"))
        .access().adminTokenSha256()).as("surrounding whitespace is not part of it")
        .isEqualTo(TEST_HASH);
  }

  @Test
  void withoutAnAuthSectionTheGatewayIsOpen() throws Exception {
    GatewayConfig c = ConfigLoader.load(ConfigLoaderTest.resource("minimal.yaml"), Map.of());

    assertThat(c.access()).isEqualTo(Access.openAccess());
  }

  @Test
  void keysInlineAndInAKeysFileAreCompiled() throws Exception {
    GatewayConfig c = ConfigLoader.load(ConfigLoaderTest.resource("auth-keys.yaml"), Map.of());

    Access a = c.access();
    assertThat(a.open()).isFalse();
    assertThat(a.adminTokenSha256()).isEqualTo(Secrets.sha256Hex("example-admin-token"));
    assertThat(a.protectMetrics()).isTrue();
    assertThat(a.connections()).isEqualTo(new Access.ConnectionLimits(500, Duration.ofSeconds(10)));
    String batch = Secrets.sha256Hex("batch-key");
    String old = Secrets.sha256Hex("old-key");
    assertThat(a.keys().keySet()).containsExactly(TEST_HASH, batch, old);
    assertThat(a.keyNames()).containsExactly("support-bot", "batch-jobs", "old.key_1");

    assertThat(a.keys().get(TEST_HASH)).isEqualTo(new Access.ApiKey("support-bot", TEST_HASH,
        "support", Set.of("trivial", "balanced"), Set.of("auto", "local"), 600, 200_000,
        new Access.Budget(Access.Period.DAY, 5.0, 4.0, true), false, false));
    assertThat(a.keys().get(batch)).isEqualTo(new Access.ApiKey("batch-jobs", batch, "research",
        Set.of(), Set.of(), 0, 0, new Access.Budget(Access.Period.DAY, Double.NaN, 2.5, false),
        false, false));
    assertThat(a.keys().get(old)).isEqualTo(new Access.ApiKey("old.key_1", old, null, Set.of(),
        Set.of(), 0, 0, null, true, true));

    assertThat(a.teams()).containsExactly(
        Map.entry("support", new Access.Team("support",
            new Access.Budget(Access.Period.MONTH, 500, Double.NaN, false))),
        Map.entry("research", new Access.Team("research", null)));
  }

  @Test
  void theShippedFileSwitchedToTheExampleKeysFileAsItsCommentsSay() throws Exception {
    String shipped = Files.readString(ConfigLoaderTest.SHIPPED);
    String closed = shipped.replace("  open: true\n", "  open: false\n")
        .replace("  # keysFile: keys.yaml ", "  keysFile: keys.example.yaml ");
    assertThat(closed).isNotEqualTo(shipped).contains("keysFile: keys.example.yaml");
    GatewayConfig c = ConfigLoader.parse(ConfigLoaderTest.SHIPPED, closed, Map.of());

    Access a = c.access();
    assertThat(a.keyNames()).containsExactly("support-bot", "batch-jobs");
    Access.ApiKey support = a.keys().get(Secrets.sha256Hex("example-key-support-bot"));
    assertThat(support.name()).isEqualTo("support-bot");
    assertThat(support.team()).isEqualTo("support");
    assertThat(support.budget()).isEqualTo(new Access.Budget(Access.Period.DAY, 5.0, 4.0, true));
    assertThat(a.keys().get(Secrets.sha256Hex("example-key-batch-jobs")).name())
        .isEqualTo("batch-jobs");
    assertThat(a.teams().get("support").budget())
        .isEqualTo(new Access.Budget(Access.Period.MONTH, 500, 400, true));
  }

  @Test
  void openWithKeysIsAllowed() throws Exception {
    GatewayConfig c = ConfigLoader.parse(Path.of("t.yaml"), BASE + """
        auth:
          open: true
          keys:
            a: {sha256: %s, models: [local]}
        """.formatted(TEST_HASH), Map.of());

    assertThat(c.access().open()).isTrue();
    assertThat(c.access().keyNames()).containsExactly("a");
  }

  @Test
  void everyProblemOfABrokenAuthSectionAndKeysFileIsReportedAtOnce() throws Exception {
    Path main = ConfigLoaderTest.resource("broken-auth.yaml");
    Path keys = ConfigLoaderTest.resource("broken-auth.keys.yaml");
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> ConfigLoader.load(main, Map.of()));

    String k = "auth.keys.";
    String notHex = "is not a SHA-256 hash (expected 64 hex digits, as printed by printf %s"
        + " \"$KEY\" | sha256sum; the value is not shown, in case it is a secret)";
    assertThat(e.errors()).extracting(ConfigError::file, ConfigError::line, ConfigError::path,
        ConfigError::message).containsExactly(
        tuple(main, 3, "limits.maxConnections",
            "'0' is out of range (expected an integer 1..1000000: open client connections)"),
        tuple(main, 4, "limits.requestReceiveTimeout",
            "'forever' is not a duration (expected e.g. 500ms, 2s, 1m)"),
        tuple(main, 15, "auth.adminTokenSha256", notHex),
        tuple(main, 16, "auth.protectMetric", "unknown key 'protectMetric' (expected one of: open,"
            + " adminTokenEnv, adminTokenSha256, protectMetrics, keysFile, keys, teams; did you"
            + " mean 'protectMetrics'?)"),
        tuple(main, 21, k + "support-bot.team",
            "team 'suport' is not configured (expected one of: support)"),
        tuple(main, 22, k + "support-bot.models[1]", "'gpt-5' is not a configured model alias"
            + " (expected auto or one of: local)"),
        tuple(main, 23, k + "support-bot.budget.period",
            "'week' is not a budget period (expected day or month)"),
        tuple(main, 23, k + "support-bot.budget.soft",
            "'6' is more than hard '5' (expected soft <= hard)"),
        tuple(main, 24, k + "Bad_Name", "key name 'Bad_Name' is not valid (expected lower-case"
            + " letters, digits, '_', '.' and '-', starting with a letter or digit)"),
        tuple(main, 25, k + "Bad_Name.sha256", notHex),
        tuple(main, 26, k + "Bad_Name.revoked", "'maybe' is not a boolean (expected true or false)"),
        tuple(main, 29, "auth.teams.support.budget", "no amount (expected hard:, soft: or both, in"
            + " US dollars, e.g. {period: day, hard: 5.00, soft: 4.00})"),
        tuple(keys, 4, "keys.batch.sha256", "key 'batch' has the same sha256 as key 'support-bot'"
            + " at " + main + ":20 (expected a different key for each name)"),
        tuple(keys, 5, "keys.batch.tiers", "empty list (expected at least one: a tier name, e.g."
            + " balanced; leave the key out to allow all)"),
        tuple(keys, 6, "keys.batch.requestsPerMinute", "'-1' is out of range (expected requests"
            + " per minute, an integer 0 or above (0 = no limit))"),
        tuple(keys, 7, "keys.batch.budget.downgrade", "'true' needs a soft budget to act on"
            + " (expected soft: too, or leave downgrade out)"),
        tuple(keys, 8, "keys.batch.mayForceTeir", "unknown key 'mayForceTeir' (expected one of:"
            + " sha256, team, tiers, models, requestsPerMinute, tokensPerMinute, budget, revoked,"
            + " mayForceTier; did you mean 'mayForceTier'?)"),
        tuple(keys, 9, "keys.support-bot", "key 'support-bot' is already defined at " + main
            + ":19 (expected each key name once)"),
        tuple(keys, 12, "teams.support", "team 'support' is already defined at " + main
            + ":28 (expected each team once)"),
        tuple(keys, 13, "tems", "unknown key 'tems' (expected one of: keys, teams; did you mean"
            + " 'teams'?)"));
    assertThat(e.getMessage())
        .contains(main + ":22: auth.keys.support-bot.models[1]: 'gpt-5' is not a configured")
        .contains(keys + ":4: keys.batch.sha256: key 'batch' has the same sha256")
        .doesNotContain("not-a-hash");
  }

  @Test
  void closedWithoutKeysIsAnErrorReportedWithTheOthers() {
    List<ConfigError> errors = errorsOf(BASE + """
        auth:
          open: false
          adminTokenEnv: 1TOKEN
          adminTokenSha256: %s
          teams:
            ops: {budget: {period: month, hard: 10, soft: 20}}
        """.formatted(TEST_HASH));

    assertThat(errors).extracting(ConfigError::line, ConfigError::path, ConfigError::message)
        .containsExactly(
            tuple(10, "auth.open", "no keys (expected at least one key, or open: true)"),
            tuple(11, "auth.adminTokenEnv", "the value (6 characters, not shown: it may be a secret) is not"
                + " an environment variable name (expected letters, digits and '_', e.g. OPENAI_API_KEY)"),
            tuple(12, "auth.adminTokenSha256", "written together with adminTokenEnv (expected at"
                + " most one of adminTokenEnv and adminTokenSha256)"),
            tuple(14, "auth.teams.ops.budget.soft",
                "'20' is more than hard '10' (expected soft <= hard)"));
  }

  @Test
  void anAuthSectionWithoutOpenNeedsKeys() {
    assertThat(errorsOf(BASE + "auth: {protectMetrics: true}\n"))
        .extracting(ConfigError::line, ConfigError::path, ConfigError::message)
        .containsExactly(tuple(9, "auth", "no keys (expected at least one key, or open: true)"));
    assertThat(errorsOf(BASE + "auth:\n  keys: {}\n"))
        .extracting(ConfigError::path).containsExactly("auth");
    assertThat(errorsOf(BASE + "auth:\n"))
        .extracting(ConfigError::path, ConfigError::message).containsExactly(tuple("auth",
            "no value (expected a mapping such as {open: true} or {keys: ...})"));
    assertThat(errorsOf(BASE + "auth: {open: yes please}\n"))
        .extracting(ConfigError::path, ConfigError::message).containsExactly(tuple("auth.open",
            "'yes please' is not a boolean (expected true or false)"));
  }

  @Test
  void aMissingKeysFileIsReportedWhereItIsNamed() {
    List<ConfigError> errors = errorsOf(BASE + "auth:\n  open: false\n  keysFile: nowhere.yaml\n");

    assertThat(errors).singleElement().satisfies(err -> {
      assertThat(err.line()).isEqualTo(11);
      assertThat(err.path()).isEqualTo("auth.keysFile");
      assertThat(err.message()).startsWith("'nowhere.yaml' not found (looked for nowhere.yaml;");
    });
  }

  @Test
  void aKeysFileWithBadYamlIsReportedWithItsOwnNameAndLine() throws Exception {
    Path dir = ConfigLoaderTest.resource("broken-auth.yaml").getParent();
    Path gateway = dir.resolve("gateway.yaml");
    ConfigException e = failure(gateway, BASE + """
        auth:
          open: true
          keysFile: broken.yaml
        """, Map.of());

    // broken.yaml is a gateway.yaml, not a keys file: every top-level key is unknown
    assertThat(e.errors()).allSatisfy(err -> assertThat(err.file()).isEqualTo(dir.resolve("broken.yaml")));
    assertThat(e.errors()).extracting(ConfigError::path)
        .contains("listener", "limits", "backends", "models");
    assertThat(e.errors().get(0).message()).startsWith("unknown key 'listener' (expected one of:"
        + " keys, teams)");
  }

  @Test
  void keyValuesOfTheWrongShapeAreErrors() {
    List<ConfigError> errors = errorsOf(BASE + """
        auth:
          open: true
          keys:
            a:
            b: {sha256: %s, tiers: balanced, models: [auto, auto], tokensPerMinute: lots,
                budget: {}}
            c: {team: x, tiers: ['', trivial], budget: {soft: 1}}
        """.formatted(TEST_HASH));

    assertThat(errors).extracting(ConfigError::line, ConfigError::path).containsExactly(
        tuple(12, "auth.keys.a"),
        tuple(13, "auth.keys.b.tiers"),
        tuple(13, "auth.keys.b.models[1]"),
        tuple(13, "auth.keys.b.tokensPerMinute"),
        tuple(14, "auth.keys.b.budget"),
        tuple(15, "auth.keys.c.sha256"),
        tuple(15, "auth.keys.c.team"),
        tuple(15, "auth.keys.c.tiers[0]"));
    assertThat(errors.get(0).message()).startsWith("no settings (expected a mapping with at least"
        + " sha256:");
    assertThat(errors.get(1).message()).isEqualTo("'balanced' is not valid here (expected a list)");
    assertThat(errors.get(2).message()).isEqualTo("'auto' is listed twice (expected each once)");
    assertThat(errors.get(5).message()).startsWith("missing (expected the key's SHA-256");
    assertThat(errors.get(6).message()).isEqualTo("team 'x' is not configured (expected a team"
        + " under auth.teams)");
  }

  @Test
  void theAdminTokenAppearsNowhere() throws Exception {
    String sentinel = "sentinel-admin-token-5f0e2a";
    Map<String, String> env = Map.of("GATEWAY_ADMIN_TOKEN", sentinel);
    String auth = """
        auth:
          open: true
          adminTokenEnv: GATEWAY_ADMIN_TOKEN
        """;

    GatewayConfig c = ConfigLoader.parse(Path.of("t.yaml"), BASE + auth, env);
    assertThat(c.access().adminTokenSha256()).isEqualTo(Secrets.sha256Hex(sentinel));
    assertThat(c.toString()).doesNotContain(sentinel);
    assertThat(c.access().toString()).doesNotContain(sentinel);

    // the token copied into the file through ${...}: refused, and no message repeats it
    ConfigException e = failure(Path.of("t.yaml"), """
        listener: {host: 127.0.0.1, port: '${GATEWAY_ADMIN_TOKEN}'}
        backends:
          local:
            baseUrl: http://127.0.0.1:8081/v1
            models: ${GATEWAY_ADMIN_TOKEN}
        models:
          local: {backend: local, model: local-model}
        """ + auth + """
          keys:
            k: {sha256: '${GATEWAY_ADMIN_TOKEN}'}
        """, env);
    assertThat(e.errors()).extracting(ConfigError::line, ConfigError::path).contains(
        tuple(1, "listener.port"), tuple(5, "backends.local.models"),
        tuple(12, "auth.keys.k.sha256"));
    assertThat(e.errors()).filteredOn(err -> err.line() != 7)
        .allSatisfy(err -> assertThat(err.message()).startsWith("${GATEWAY_ADMIN_TOKEN} is the"
            + " admin token (expected it only as auth.adminTokenEnv"));
    assertThat(e.getMessage()).doesNotContain(sentinel);
    assertThat(e.errors().toString()).doesNotContain(sentinel);

    // a clear key pasted where a hash belongs is not repeated either
    List<ConfigError> pasted = errorsOf(BASE + """
        auth:
          adminTokenSha256: %s
          keys:
            k: {sha256: %s}
        """.formatted(sentinel, sentinel));
    assertThat(pasted).extracting(ConfigError::path)
        .containsExactly("auth.adminTokenSha256", "auth.keys.k.sha256");
    assertThat(pasted.toString()).doesNotContain(sentinel);
  }

  @Test
  void connectionLimitsAreChecked() throws Exception {
    assertThat(ConfigLoader.parse(Path.of("t.yaml"), BASE
        + "limits: {maxConnections: 1000000, requestReceiveTimeout: 500ms}\nauth: {open: true}\n", Map.of())
        .access().connections())
        .isEqualTo(new Access.ConnectionLimits(1_000_000, Duration.ofMillis(500)));
    assertThat(ConfigLoader.parse(Path.of("t.yaml"), BASE + "limits: {maxRequestBytes: 1MiB}\nauth: {open: true}\n",
        Map.of()).access().connections()).isEqualTo(Access.ConnectionLimits.defaults());
    assertThat(errorsOf(BASE + "limits: {maxConnections: 1000001, requestReceiveTimeout: 0s}\nauth: {open: true}\n"))
        .extracting(ConfigError::path, ConfigError::message).containsExactly(
            tuple("limits.maxConnections", "'1000001' is out of range (expected an integer"
                + " 1..1000000: open client connections)"),
            tuple("limits.requestReceiveTimeout",
                "'0s' is zero (expected a duration above 0, e.g. 500ms, 2s, 1m)"));
  }
}
