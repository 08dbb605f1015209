package dev.llmgw.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigErrorsTest {

  static final Path FILE = Path.of("gateway.yaml");

  /** The errors of a file; these snippets leave out the auth section, whose absence is tested in AccessConfigTest. */
  static List<ConfigError> errorsOf(String yaml, Map<String, String> env) {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> ConfigLoader.parse(FILE, yaml, env));
    assertThat(e).as("expected a ConfigException").isNotNull();
    return e.errors().stream()
        .filter(err -> !(err.path().equals("auth") && err.message().startsWith("no auth section")))
        .toList();
  }

  static List<ConfigError> errorsOf(String yaml) {
    return errorsOf(yaml, Map.of());
  }

  static final String BACKENDS = """
      backends:
        local:
          baseUrl: http://127.0.0.1:8081/v1
          models: [local-model]
      """;

  @Test
  void everyProblemOfABrokenFileIsReportedAtOnce() throws Exception {
    Path broken = ConfigLoaderTest.resource("broken.yaml");
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> ConfigLoader.load(broken, Map.of()));

    assertThat(e.errors()).extracting(ConfigError::line, ConfigError::path).containsExactly(
        tuple(4, "listener.port"),
        tuple(7, "limits.maxBodyBytes"),
        tuple(10, "backends.local.retries"),
        tuple(14, "backends.local.timeouts.connect"),
        tuple(18, "models.local.backend"),
        tuple(19, "models.gpt-4o"));
    assertThat(e.errors()).allSatisfy(err -> assertThat(err.file()).isEqualTo(broken));
    List<String> messages = e.errors().stream().map(ConfigError::message).toList();
    assertThat(messages.get(0)).isEqualTo("'99999' is not a port (expected an integer 0..65535)");
    assertThat(messages.get(1)).startsWith("unknown key 'maxBodyBytes' (expected one of: "
        + "maxRequestBytes, maxHeaderBytes, maxInitialLineBytes, clientIdleTimeout, maxErrorBodyBytes");
    assertThat(messages.get(2)).startsWith("unknown key 'retries' (expected one of: baseUrl,");
    assertThat(messages.get(3)).isEqualTo("'abc' is not a duration (expected e.g. 500ms, 2s, 1m)");
    assertThat(messages.get(4)).isEqualTo("backend 'lokal' is not configured (expected one of: local)");
    assertThat(messages.get(5)).isEqualTo("model 'gpt-4o' (the alias) is not served by backend"
        + " 'local' (expected one of its models: local-model)");

    assertThat(e.getMessage().split("\n")).hasSize(6);
    assertThat(e.getMessage()).contains(broken + ":14: backends.local.timeouts.connect: "
        + "'abc' is not a duration (expected e.g. 500ms, 2s, 1m)");
  }

  @Test
  void everyResilienceAndFailoverProblemIsReportedAtOnce() throws Exception {
    Path broken = ConfigLoaderTest.resource("broken-resilience.yaml");
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> ConfigLoader.load(broken, Map.of()));

    String r = "backends.local.resilience.";
    assertThat(e.errors()).extracting(ConfigError::line, ConfigError::path, ConfigError::message)
        .containsExactly(
            tuple(4, "failover.deadline",
                "'0s' is zero (expected a duration above 0, e.g. 500ms, 2s, 1m)"),
            tuple(5, "failover.maxAttempts", "'25' is out of range (expected an integer 1..20:"
                + " attempts across all backends, retries included)"),
            tuple(6, "failover.maxRetryAfer", "unknown key 'maxRetryAfer' (expected one of:"
                + " deadline, maxAttempts, maxRetryAfter, lastResort; did you mean 'maxRetryAfter'?)"),
            tuple(12, r + "maxConcurrent",
                "'0' is out of range (expected an integer above 0, e.g. 256)"),
            tuple(13, r + "rateLimit.per", "missing (expected a duration, e.g. 500ms, 2s, 1m)"),
            tuple(16, r + "breaker.minimumCalls",
                "'20' is more than window '10' (expected minimumCalls <= window)"),
            tuple(17, r + "breaker.failureRate", "'150%' is more than 100% (expected a percentage"
                + " above 0% up to 100%, e.g. 50%)"),
            tuple(18, r + "breaker.slowCallRate", "'0.5' is ambiguous (expected a percentage such"
                + " as 50%; write 0.5% if 0.5 percent is meant)"),
            tuple(19, r + "breaker.openfor", "unknown key 'openfor' (expected one of: window,"
                + " minimumCalls, failureRate, slowCall, slowCallRate, openFor, halfOpenCalls;"
                + " did you mean 'openFor'?)"),
            tuple(20, r + "breaker.halfOpenCalls",
                "'0' is out of range (expected an integer above 0, e.g. 3)"),
            tuple(22, r + "retry.maxAttempts", "'11' is out of range (expected an integer 1..10:"
                + " attempts on this backend including the first; 1 = no retry)"),
            tuple(23, r + "retry.initialBackoff",
                "'5s' is longer than maxBackoff '2s' (expected initialBackoff <= maxBackoff)"),
            tuple(24, r + "retry.multiplier",
                "'0.5' is less than 1.0 (expected a number of at least 1.0, e.g. 2.0)"),
            tuple(27, r + "health.path", "'models' does not start with '/' (expected a path"
                + " starting with '/', appended to the backend's base URL, e.g. /models)"),
            tuple(29, r + "health.timeout",
                "'5s' is not shorter than interval '5s' (expected timeout < interval)"),
            tuple(30, r + "health.unhealthyAfter",
                "'-1' is out of range (expected an integer above 0, e.g. 3)"),
            tuple(34, "models.local-model.contextTokens", "'-5' is out of range (expected the"
                + " model's context window in tokens, an integer 0 or above, e.g. 128000"
                + " (0 = unknown))"));
    assertThat(e.errors()).allSatisfy(err -> assertThat(err.file()).isEqualTo(broken));
    assertThat(e.getMessage()).contains(broken + ":23: backends.local.resilience.retry"
        + ".initialBackoff: '5s' is longer than maxBackoff '2s' (expected initialBackoff <="
        + " maxBackoff)");
  }

  @Test
  void anOrderingThatClashesWithADefaultIsReportedAtTheKeyWritten() {
    List<ConfigError> errors = errorsOf("""
        backends:
          local:
            baseUrl: http://127.0.0.1:8081/v1
            models: [local-model]
            resilience:
              breaker: {window: 5}
              retry: {maxBackoff: 100ms}
              health: {interval: 1s}
        models:
          local-model: {backend: local}
        """);

    String r = "backends.local.resilience.";
    assertThat(errors).extracting(ConfigError::line, ConfigError::path, ConfigError::message)
        .containsExactly(
            tuple(6, r + "breaker.window", "'5' is less than minimumCalls '10' (the default)"
                + " (expected minimumCalls <= window; set minimumCalls too)"),
            tuple(7, r + "retry.maxBackoff", "'100ms' is shorter than initialBackoff '200ms'"
                + " (the default) (expected initialBackoff <= maxBackoff; set initialBackoff too)"),
            tuple(8, r + "health.interval", "'1s' is not longer than timeout '2s' (the default)"
                + " (expected timeout < interval; set timeout too)"));
  }

  @Test
  void resilienceSectionsOfTheWrongShapeOrWithoutValueAreErrors() {
    List<ConfigError> errors = errorsOf("""
        failover: 30s
        backends:
          local:
            baseUrl: http://127.0.0.1:8081/v1
            models: [local-model]
            resilience:
              rateLimit: 500/m
              breaker: [a]
              health:
          other:
            baseUrl: http://127.0.0.1:8082/v1
            models: [m]
            resilience:
              maxConcurrent: lots
              rateLimit:
              retry: {multiplier: fast, initialBackoff: ''}
        models:
          local-model: {backend: local}
        """);

    String l = "backends.local.resilience.";
    String o = "backends.other.resilience.";
    assertThat(errors).extracting(ConfigError::line, ConfigError::path).containsExactly(
        tuple(1, "failover"),
        tuple(7, l + "rateLimit"),
        tuple(8, l + "breaker"),
        tuple(9, l + "health"),
        tuple(14, o + "maxConcurrent"),
        tuple(15, o + "rateLimit"),
        tuple(16, o + "retry.initialBackoff"),
        tuple(16, o + "retry.multiplier"));
    assertThat(errors.get(0).message()).isEqualTo("'30s' is not valid here (expected a mapping"
        + " with keys deadline, maxAttempts, maxRetryAfter, lastResort)");
    assertThat(errors.get(1).message()).isEqualTo("'500/m' is not valid here (expected a mapping"
        + " with keys requests, per)");
    assertThat(errors.get(3).message()).startsWith("no value (expected a mapping such as"
        + " {path: /models, interval: 10s}, or {} for the defaults; leave the key out for no"
        + " active health check");
    assertThat(errors.get(4).message()).isEqualTo("'lots' is not an integer (expected an integer"
        + " above 0, e.g. 256)");
    assertThat(errors.get(5).message()).startsWith("no value (expected a mapping such as"
        + " {requests: 500, per: 1m}");
    assertThat(errors.get(6).message()).startsWith("'' is not a duration");
    assertThat(errors.get(7).message()).isEqualTo("'fast' is not a number (expected a number of"
        + " at least 1.0, e.g. 2.0)");
  }

  @Test
  void anUnsetVariableWithoutDefaultIsAnError() {
    List<ConfigError> errors = errorsOf("""
        listener:
          host: ${BIND_HOST}
          port: 8080
        """ + BACKENDS + """
        models:
          local-model: {backend: local}
        """);

    assertThat(errors).singleElement().satisfies(e -> {
      assertThat(e.line()).isEqualTo(2);
      assertThat(e.path()).isEqualTo("listener.host");
      assertThat(e.message()).contains("BIND_HOST is not set").contains("${BIND_HOST:-value}");
    });
  }

  @Test
  void malformedReferencesAreErrors() {
    List<ConfigError> errors = errorsOf("""
        listener:
          host: ${1BAD}
          port: ${PORT
        """ + BACKENDS + """
        models:
          local-model: {backend: local}
        """);

    assertThat(errors).extracting(ConfigError::line).containsExactly(2, 3);
    assertThat(errors.get(0).message()).contains("'${1BAD}' is not a variable reference");
    assertThat(errors.get(1).message()).contains("unterminated '${PORT'");
  }

  @Test
  void aProviderKeyIsNeverSubstitutedIntoTheFile() {
    List<ConfigError> errors = errorsOf("""
        backends:
          openai:
            baseUrl: https://api.openai.com/v1?key=${OPENAI_API_KEY}
            apiKeyEnv: OPENAI_API_KEY
            models: [gpt-4o]
        models:
          gpt-4o: {backend: openai}
        """, Map.of("OPENAI_API_KEY", "sk-secret"));

    assertThat(errors).isNotEmpty();
    assertThat(errors.get(0).line()).isEqualTo(3);
    assertThat(errors.get(0).message()).contains("${OPENAI_API_KEY} is the provider key");
    assertThat(errors.toString()).doesNotContain("sk-secret");
  }

  @Test
  void badShapesAreReportedWithTheirPaths() {
    List<ConfigError> errors = errorsOf("""
        listener: [a, b]
        backends:
          local:
            baseUrl: {url: x}
            models: local-model
            timeouts:
              total: 1m
              firstByte: 2m
              idle: 0s
            maxConnections: -1
        models:
          local-model: {backend: local}
        """);

    assertThat(errors).extracting(ConfigError::line, ConfigError::path).containsExactly(
        tuple(1, "listener"),
        tuple(4, "backends.local.baseUrl"),
        tuple(5, "backends.local.models"),
        tuple(8, "backends.local.timeouts.firstByte"),
        tuple(9, "backends.local.timeouts.idle"),
        tuple(10, "backends.local.maxConnections"));
    assertThat(errors.get(0).message()).isEqualTo("a list is not valid here (expected a mapping"
        + " with keys host, port)");
    assertThat(errors.get(2).message()).isEqualTo("'local-model' is not valid here (expected a list)");
    assertThat(errors.get(3).message()).isEqualTo("'2m' is longer than total '1m' (expected"
        + " firstByte <= total)");
    assertThat(errors.get(4).message()).startsWith("'0s' is zero");
    assertThat(errors.get(5).message()).startsWith("'-1' is not a positive integer");
  }

  @Test
  void backendValuesAreChecked() {
    List<ConfigError> errors = errorsOf("""
        backends:
          Bad.Name:
            baseUrl: ftp://example.com/v1
            models: [m]
          remote:
            baseUrl: https://user:pw@example.com/v1
            apiKeyEnv: 1-NOT-A-NAME
            enabled: maybe
            models: [a, '', a]
          nokey:
            enabled: if-key-set
            models: []
        models:
          m: {backend: Bad.Name}
        """);

    assertThat(errors).extracting(ConfigError::path, ConfigError::line).containsExactly(
        tuple("backends.Bad.Name", 2),
        tuple("backends.Bad.Name.baseUrl", 3),
        tuple("backends.remote.baseUrl", 6),
        tuple("backends.remote.apiKeyEnv", 7),
        tuple("backends.remote.enabled", 8),
        tuple("backends.remote.models[1]", 9),
        tuple("backends.remote.models[2]", 9),
        tuple("backends.nokey.baseUrl", 10),
        tuple("backends.nokey.enabled", 11),
        tuple("backends.nokey.models", 12));
    String all = errors.toString();
    assertThat(all).doesNotContain("pw@").contains("holds credentials")
        .contains("'maybe' is not a valid setting (expected true, false or if-key-set)")
        .contains("'if-key-set' needs a key variable")
        .contains("'a' is listed twice")
        .contains("'ftp://example.com/v1' is not an http or https URL")
        .contains("baseUrl: missing (expected an http or https URL");
  }

  @Test
  void aliasesAreChecked() {
    List<ConfigError> errors = errorsOf(BACKENDS + """
        models:
          auto: {backend: local}
          nobackend: {model: local-model}
          other:
            backend: local
            model: gpt-4o
            ownedBy: ''
        """);

    assertThat(errors).extracting(ConfigError::path, ConfigError::line).containsExactly(
        tuple("models.auto", 6),
        tuple("models.nobackend.backend", 7),
        tuple("models.other.model", 10));
    assertThat(errors.get(0).message()).contains("reserved");
    assertThat(errors.get(1).message()).isEqualTo("missing (expected one of the configured"
        + " backends: local)");
    assertThat(errors.get(2).message()).contains("model 'gpt-4o' is not served by backend 'local'"
        + " (expected one of its models: local-model)");
  }

  @Test
  void emptySectionsAreErrors() {
    assertThat(errorsOf("listener: {port: 1}\n")).extracting(ConfigError::path)
        .containsExactly("backends", "models");
    assertThat(errorsOf("# only a comment\n\n")).singleElement()
        .satisfies(e -> assertThat(e.message()).startsWith("no configuration"));
    assertThat(errorsOf("just text\n")).singleElement()
        .satisfies(e -> assertThat(e.message()).startsWith("the file holds 'just text'"));
  }

  @Test
  void syntaxErrorsAndDuplicateKeysHaveLines() {
    List<ConfigError> syntax = errorsOf("listener:\n  host: [unclosed\n  port: 1\n");
    assertThat(syntax).singleElement().satisfies(e -> {
      assertThat(e.message()).startsWith("not valid YAML");
      assertThat(e.line()).isGreaterThan(1);
    });

    List<ConfigError> dup = errorsOf(BACKENDS + """
        models:
          local-model: {backend: local}
          local-model: {backend: local}
        """);
    assertThat(dup).singleElement().satisfies(e -> {
      assertThat(e.line()).isEqualTo(7);
      assertThat(e.path()).isEqualTo("models.local-model");
      assertThat(e.message()).contains("duplicate key 'local-model' (first written on line 6");
    });
  }

  @Test
  void aDuplicatedSectionIsReportedAndTheLastOneIsChecked() {
    List<ConfigError> errors = errorsOf("""
        backends:
          local:
            baseUrl: http://127.0.0.1:8081/v1
            models: [local-model]
          local:
            baseUrl: nope
            models: [local-model]
        models:
          local-model: {backend: local}
        """);

    assertThat(errors).extracting(ConfigError::line, ConfigError::path).containsExactly(
        tuple(5, "backends.local"),
        tuple(6, "backends.local.baseUrl"));
  }

  @Test
  void onlyOneDocumentIsAllowed() {
    List<ConfigError> errors = errorsOf(BACKENDS + "models: {local-model: {backend: local}}\n"
        + "---\nlistener: {port: 1}\n");

    assertThat(errors).singleElement().satisfies(e -> {
      assertThat(e.line()).isEqualTo(7);
      assertThat(e.message()).contains("second YAML document");
    });
  }

  @Test
  void unknownKeysSuggestTheClosestKnownOne() {
    List<ConfigError> errors = errorsOf("listner: {port: 1}\n" + BACKENDS
        + "models:\n  local-model: {backend: local}\n");

    assertThat(errors).singleElement().satisfies(e -> {
      assertThat(e.line()).isEqualTo(1);
      assertThat(e.message()).isEqualTo("unknown key 'listner' (expected one of: listener, limits,"
          + " failover, backends, models, economics, auth, state, cache, tracing; did you mean 'listener'?)");
    });
  }

  @Test
  void errorsFormatAsFileLinePathMessage() {
    assertThat(new ConfigError(Path.of("gateway.yaml"), 12, "backends.local.timeouts.connect",
        "'abc' is not a duration").toString())
        .isEqualTo("gateway.yaml:12: backends.local.timeouts.connect: 'abc' is not a duration");
    assertThat(new ConfigError(Path.of("gateway.yaml"), -1, "", "no configuration").toString())
        .isEqualTo("gateway.yaml: no configuration");
  }
}
