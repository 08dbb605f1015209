package dev.llmgw.core.config;

import static dev.llmgw.core.config.ConfigErrorsTest.FILE;
import static dev.llmgw.core.config.ConfigErrorsTest.errorsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.networknt.schema.Error;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code tracing} section: off by default, every bad value reported at its line, header values from the environment. */
class TracingConfigTest {

  static final String BASE = """
      listener: { port: 0 }
      backends:
        local:
          baseUrl: http://127.0.0.1:8081/v1
          models: [local-model]
      models:
        local: { backend: local, model: local-model }
      auth: { open: true }
      """;

  static GatewayConfig load(String tracing, Map<String, String> env) throws Exception {
    return ConfigLoader.parse(FILE, BASE + tracing, env);
  }

  @Test
  void absentOrShippedTracingIsOff() throws Exception {
    assertThat(load("", Map.of()).tracing()).isEqualTo(TracingSettings.off());
    GatewayConfig shipped = ConfigLoader.load(ConfigLoaderTest.SHIPPED, Map.of());
    assertThat(shipped.tracing().enabled()).isFalse();
    assertThat(shipped.tracing().endpoint()).isEqualTo(URI.create("http://127.0.0.1:4318/v1/traces"));
  }

  @Test
  void theShippedFileTurnsItOnFromTheEnvironment() throws Exception {
    GatewayConfig c = ConfigLoader.load(ConfigLoaderTest.SHIPPED, Map.of("GATEWAY_TRACING", "true",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://collector.example:4318/v1/traces"));
    assertThat(c.tracing()).isEqualTo(new TracingSettings(true, URI.create("https://collector.example:4318/v1/traces"),
        Map.of(), 1.0, "llm-gateway"));
  }

  @Test
  void valuesAreCompiledAndHeaderValuesComeFromTheEnvironment() throws Exception {
    TracingSettings t = load("""
        tracing:
          enabled: true
          endpoint: http://127.0.0.1:4318
          protocol: http/protobuf
          sampleRatio: 0.25
          serviceName: gw-eu-1
          headersEnv:
            Authorization: OTLP_AUTH
        """, Map.of("OTLP_AUTH", "Bearer otlp-secret-123")).tracing();
    assertThat(t.enabled()).isTrue();
    assertThat(t.endpoint()).as("a URL without a path gets the traces path")
        .isEqualTo(URI.create("http://127.0.0.1:4318/v1/traces"));
    assertThat(t.sampleRatio()).isEqualTo(0.25);
    assertThat(t.serviceName()).isEqualTo("gw-eu-1");
    assertThat(t.headers()).containsExactly(Map.entry("Authorization", "Bearer otlp-secret-123"));
    assertThat(t.toString()).contains("Authorization").doesNotContain("otlp-secret");
  }

  @Test
  void everyBadValueIsReportedAtItsLine() {
    List<ConfigError> errors = errorsOf(BASE + """
        tracing:
          enabled: maybe
          endpoint: ftp://collector:4318
          protocol: grpc
          sampleRatio: 1.5
          serviceName: "my service"
          headersEnv:
            "Bad Header": X
            Authorization: OTLP_AUTH
          exporter: zipkin
        """, Map.of());
    int t = 9; // the line of "tracing:"
    assertThat(errors).extracting(ConfigError::line, ConfigError::path, ConfigError::message).containsExactly(
        tuple(t + 1, "tracing.enabled", "'maybe' is not a boolean (expected true or false)"),
        tuple(t + 2, "tracing.endpoint", "'ftp://collector:4318' is not an http or https URL (expected an http or"
            + " https URL, e.g. http://127.0.0.1:8081/v1)"),
        tuple(t + 3, "tracing.protocol", "'grpc' is not a supported protocol (expected http/protobuf: OTLP over HTTP)"),
        tuple(t + 4, "tracing.sampleRatio", "'1.5' is not a ratio (expected a number 0..1, the share of new traces"
            + " recorded (e.g. 0.1))"),
        tuple(t + 5, "tracing.serviceName", "'my service' is not a service name (expected a service name of letters,"
            + " digits and _ . : / - (at most 64), e.g. llm-gateway)"),
        tuple(t + 7, "tracing.headersEnv.Bad Header", "'Bad Header' is not a header name (expected letters, digits"
            + " and -, e.g. Authorization)"),
        tuple(t + 9, "tracing.exporter", "unknown key 'exporter' (expected one of: enabled, endpoint, protocol,"
            + " headersEnv, sampleRatio, serviceName)"));
  }

  @Test
  void anUnsetHeaderVariableIsAProblemOnlyWhenTracingIsOn() throws Exception {
    String section = """
        tracing:
          enabled: %s
          headersEnv: { Authorization: OTLP_AUTH }
        """;
    assertThat(load(section.formatted("false"), Map.of()).tracing().headers()).isEmpty();
    assertThat(errorsOf(BASE + section.formatted("true"))).extracting(ConfigError::line, ConfigError::message)
        .containsExactly(tuple(11, "OTLP_AUTH is not set (expected the header's value in it, e.g. Bearer <token>)"));
    assertThat(errorsOf(BASE + section.formatted("true"), Map.of("OTLP_AUTH", "Bearer a\u0001b")))
        .extracting(ConfigError::message).singleElement().asString()
        .contains("control or non-ASCII").doesNotContain("Bearer a");
  }

  @Test
  void theSchemaKnowsTheSection() throws Exception {
    GatewaySchemaTest.loadSchema();
    assertThat(GatewaySchemaTest.validate(BASE + """
        tracing:
          enabled: true
          endpoint: http://127.0.0.1:4318/v1/traces
          protocol: http/protobuf
          sampleRatio: 0.5
          serviceName: llm-gateway
          headersEnv: { Authorization: OTLP_AUTH }
        """)).isEmpty();
    List<Error> errors = GatewaySchemaTest.validate(BASE + """
        tracing:
          enabled: maybe
          protocol: grpc
          sampleRatio: 2
          exporter: zipkin
        """);
    assertThat(errors).extracting(e -> e.getInstanceLocation().toString())
        .contains("/tracing/enabled", "/tracing/protocol", "/tracing/sampleRatio", "/tracing");
  }
}
