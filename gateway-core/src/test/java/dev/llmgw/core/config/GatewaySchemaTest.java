package dev.llmgw.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** config/gateway.schema.json (for editors) accepts the shipped file and rejects broken ones. */
class GatewaySchemaTest {

  static final Path SCHEMA = Path.of("..", "config", "gateway.schema.json");
  static final SchemaRegistry REGISTRY =
      SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
  static Schema schema;

  @BeforeAll
  static void loadSchema() throws Exception {
    try (InputStream in = Files.newInputStream(SCHEMA)) {
      schema = REGISTRY.getSchema(in, InputFormat.JSON);
    }
  }

  /** The YAML as JSON text: parsed with Jackson 2's YAML mapper, as an editor would see it. */
  static List<Error> validate(String yaml) throws Exception {
    String json = new YAMLMapper().readTree(yaml).toString();
    return schema.validate(json, InputFormat.JSON);
  }

  static List<Error> validate(Path yaml) throws Exception {
    return validate(Files.readString(yaml));
  }

  @Test
  void theSchemaIsAValidDraft202012Schema() throws Exception {
    Schema meta = REGISTRY.getSchema(
        SchemaLocation.of(SpecificationVersion.DRAFT_2020_12.getDialectId()));
    List<Error> errors = meta.validate(Files.readString(SCHEMA), InputFormat.JSON);
    assertThat(errors).isEmpty();
  }

  @Test
  void theShippedFileValidates() throws Exception {
    assertThat(validate(ConfigLoaderTest.SHIPPED)).isEmpty();
  }

  @Test
  void theMinimalFileValidates() throws Exception {
    assertThat(validate(ConfigLoaderTest.resource("minimal.yaml"))).isEmpty();
  }

  @Test
  void theBrokenFileDoesNot() throws Exception {
    List<Error> errors = validate(ConfigLoaderTest.resource("broken.yaml"));

    assertThat(errors).isNotEmpty();
    assertThat(errors).extracting(e -> e.getInstanceLocation().toString())
        .contains("/listener/port", "/limits", "/backends/local",
            "/backends/local/timeouts/connect");
  }

  @Test
  void theBrokenResilienceFileDoesNot() throws Exception {
    List<Error> errors = validate(ConfigLoaderTest.resource("broken-resilience.yaml"));

    String r = "/backends/local/resilience";
    assertThat(errors).extracting(e -> e.getInstanceLocation().toString())
        .contains("/failover/deadline", "/failover/maxAttempts", "/failover",
            r + "/maxConcurrent", r + "/rateLimit", r + "/breaker/failureRate",
            r + "/breaker/slowCallRate", r + "/breaker", r + "/breaker/halfOpenCalls",
            r + "/retry/maxAttempts", r + "/retry/multiplier", r + "/health/path",
            r + "/health/unhealthyAfter", "/models/local-model/contextTokens");
  }

  @Test
  void resilienceValuesAreChecked() throws Exception {
    String ok = """
        failover: {deadline: 30s, maxAttempts: 4, maxRetryAfter: 5s}
        backends:
          local:
            baseUrl: 'http://h:1/v1'
            models: [m]
            resilience:
              maxConcurrent: 8
              rateLimit: {requests: 500, per: 1m}
              breaker: {window: 20, failureRate: 50%, slowCallRate: 100}
              retry: {maxAttempts: 2, multiplier: 2.0}
              health: {path: /models, interval: 5s}
        models:
          m: {backend: local, contextTokens: 2048}
        """;
    assertThat(validate(ok)).isEmpty();
    assertThat(validate(ok.replace("failureRate: 50%", "failureRate: 12.5%"))).isEmpty();
    assertThat(validate(ok.replace("failureRate: 50%", "failureRate: 0%"))).isNotEmpty();
    assertThat(validate(ok.replace("failureRate: 50%", "failureRate: 101%"))).isNotEmpty();
    assertThat(validate(ok.replace("failureRate: 50%", "failureRate: 0.5"))).isNotEmpty();
    assertThat(validate(ok.replace("failureRate: 50%", "failureRate: '${FR:-50%}'"))).isEmpty();
    assertThat(validate(ok.replace("maxAttempts: 2", "maxAttempts: 11"))).isNotEmpty();
    assertThat(validate(ok.replace("maxAttempts: 4", "maxAttempts: 21"))).isNotEmpty();
    assertThat(validate(ok.replace("multiplier: 2.0", "multiplier: 0.5"))).isNotEmpty();
    assertThat(validate(ok.replace("path: /models", "path: models"))).isNotEmpty();
    assertThat(validate(ok.replace("{requests: 500, per: 1m}", "{requests: 500}"))).isNotEmpty();
    assertThat(validate(ok.replace("maxConcurrent: 8", "maxConcurrent: 0"))).isNotEmpty();
    assertThat(validate(ok.replace("contextTokens: 2048", "contextTokens: -1"))).isNotEmpty();
    assertThat(validate(ok.replace("contextTokens: 2048", "contextTokens: 0"))).isEmpty();
    assertThat(validate(ok.replace("health: {path: /models, interval: 5s}", "health: {}")))
        .isEmpty();
    assertThat(validate(ok.replace("window: 20", "windw: 20"))).isNotEmpty();
  }

  @Test
  void badValuesAreRejected() throws Exception {
    String ok = """
        backends:
          local: {baseUrl: 'http://h:1/v1', models: [m]}
        models:
          m: {backend: local}
        """;
    assertThat(validate(ok)).isEmpty();
    assertThat(validate(ok.replace("http://h:1/v1", "ftp://h/v1"))).isNotEmpty();
    assertThat(validate(ok.replace("models: [m]", "models: [m], enabled: maybe"))).isNotEmpty();
    assertThat(validate(ok.replace("models: [m]", "models: [m], enabled: if-key-set")))
        .isEmpty();
    assertThat(validate(ok.replace("models: [m]", "models: [m], timeouts: {total: 0s}")))
        .isNotEmpty();
    assertThat(validate(ok.replace("models: [m]", "models: [m], timeouts: {total: 1500ms}")))
        .isEmpty();
    assertThat(validate(ok.replace("  m: {backend", "  auto: {backend"))).isNotEmpty();
    assertThat(validate(ok.replace("  local:", "  Local:"))).isNotEmpty();
    assertThat(validate(ok + "limits: {maxRequestBytes: 2MB}\n")).isEmpty();
    assertThat(validate(ok + "limits: {maxRequestBytes: 2XB}\n")).isNotEmpty();
  }

  static final Path KEYS_SCHEMA = Path.of("..", "config", "keys.schema.json");
  static final Path KEYS_EXAMPLE = Path.of("..", "config", "keys.example.yaml");

  @Test
  void theKeysFileSchemaIsValidAndAcceptsTheExample() throws Exception {
    Schema meta = REGISTRY.getSchema(
        SchemaLocation.of(SpecificationVersion.DRAFT_2020_12.getDialectId()));
    assertThat(meta.validate(Files.readString(KEYS_SCHEMA), InputFormat.JSON)).isEmpty();
    Schema keys;
    try (InputStream in = Files.newInputStream(KEYS_SCHEMA)) {
      keys = REGISTRY.getSchema(in, InputFormat.JSON);
    }
    String example = new YAMLMapper().readTree(Files.readString(KEYS_EXAMPLE)).toString();
    assertThat(keys.validate(example, InputFormat.JSON)).isEmpty();
    String bad = new YAMLMapper().readTree("keys: {a: {sha256: abc}}\ntems: {}\n").toString();
    assertThat(keys.validate(bad, InputFormat.JSON)).extracting(e -> e.getInstanceLocation().toString())
        .contains("", "/keys/a/sha256");
  }

  @Test
  void theKeysFileSchemaSharesTheGatewaySchemasDefinitions() throws Exception {
    ObjectMapper json = new ObjectMapper();
    JsonNode gateway = json.readTree(SCHEMA.toFile()).path("$defs");
    JsonNode keys = json.readTree(KEYS_SCHEMA.toFile()).path("$defs");
    keys.fieldNames().forEachRemaining(name ->
        assertThat(keys.get(name)).as(name).isEqualTo(gateway.get(name)));
    assertThat(json.readTree(SCHEMA.toFile()).at("/properties/auth/properties/keys"))
        .isEqualTo(json.readTree(KEYS_SCHEMA.toFile()).at("/properties/keys"));
  }

  @Test
  void authValuesAreChecked() throws Exception {
    String ok = """
        backends:
          local: {baseUrl: 'http://h:1/v1', models: [m]}
        models:
          m: {backend: local}
        limits: {maxConnections: 10000, requestReceiveTimeout: 30s}
        auth:
          open: false
          adminTokenEnv: GATEWAY_ADMIN_TOKEN
          protectMetrics: true
          keys:
            support-bot:
              sha256: 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08
              team: support
              tiers: [trivial, balanced]
              models: [auto, m]
              requestsPerMinute: 600
              tokensPerMinute: 200000
              budget: {period: day, hard: 5.00, soft: 4.00, downgrade: true}
              revoked: false
              mayForceTier: false
          teams:
            support: {budget: {period: month, hard: 500}}
            other:
        """;
    assertThat(validate(ok)).isEmpty();
    assertThat(validate(ok.replace("open: false", "open: true"))).isEmpty();
    assertThat(validate(ok.replace("maxConnections: 10000", "maxConnections: 0"))).isNotEmpty();
    assertThat(validate(ok.replace("requestReceiveTimeout: 30s", "requestReceiveTimeout: 30")))
        .isNotEmpty();
    assertThat(validate(ok.replace("sha256: 9F86", "sha256: 9G86"))).isNotEmpty();
    assertThat(validate(ok.replace("adminTokenEnv: GATEWAY_ADMIN_TOKEN", "adminTokenEnv: A\n"
        + "  adminTokenSha256: " + AccessConfigTest.TEST_HASH))).isNotEmpty();
    assertThat(validate(ok.replace("period: day", "period: week"))).isNotEmpty();
    assertThat(validate(ok.replace("{period: month, hard: 500}", "{period: month}"))).isNotEmpty();
    assertThat(validate(ok.replace("revoked: false", "revokd: false"))).isNotEmpty();
    assertThat(validate(ok.replace("tiers: [trivial, balanced]", "tiers: []"))).isNotEmpty();
    assertThat(validate(ok.replace("support-bot:", "Support_Bot:"))).isNotEmpty();
    assertThat(validate(ok.replace("open: false", "open: 'yes'"))).isNotEmpty();
    String closedWithoutKeys = ok.substring(0, ok.indexOf("  keys:")) + "  teams: {}\n";
    assertThat(validate(closedWithoutKeys)).isNotEmpty();
    assertThat(validate(closedWithoutKeys.replace("open: false", "open: true"))).isEmpty();
    assertThat(validate(closedWithoutKeys + "  keysFile: keys.yaml\n")).isEmpty();
  }

  @Test
  void inProcessBackendsAndALastResortValidate() throws Exception {
    String ok = """
        backends:
          tiny:
            type: inprocess
            model: ${LOCAL_MODEL_PATH:-}
            enabled: if-model-set
            contextSize: 2048
            maxSequences: 2
            queue: 16
            threads: 1
            memoryLimit: 2GiB
            chatTemplate: chatml
            models: [tiny-model]
        models:
          tiny: { backend: tiny, model: tiny-model }
        failover:
          lastResort: tiny
        """;
    assertThat(validate(ok)).isEmpty();

    String mixed = """
        backends:
          tiny:
            type: inprocess
            baseUrl: http://127.0.0.1:8081/v1
            models: [tiny-model]
          remote:
            baseUrl: http://127.0.0.1:9/v1
            model: x.gguf
            models: [m]
        models:
          tiny: { backend: tiny, model: tiny-model }
        """;
    assertThat(validate(mixed)).extracting(e -> e.getInstanceLocation().toString())
        .contains("/backends/tiny", "/backends/remote");
  }
}
