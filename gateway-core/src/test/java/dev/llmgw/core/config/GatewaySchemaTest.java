package dev.llmgw.core.config;

import static org.assertj.core.api.Assertions.assertThat;

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
}
