package dev.llmgw.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

  static final Path SHIPPED = Path.of("..", "config", "gateway.yaml");

  static Path resource(String name) throws Exception {
    return Path.of(ConfigLoaderTest.class.getResource("/config/" + name).toURI());
  }

  @Test
  void shippedFileLoadsWithOpenAiKeySet() throws Exception {
    GatewayConfig c = ConfigLoader.load(SHIPPED, Map.of("OPENAI_API_KEY", "sk-test-123"));

    assertThat(c.source()).isEqualTo(SHIPPED);
    assertThat(c.listener()).isEqualTo(new ListenerSpec("127.0.0.1", 8080));
    assertThat(c.limits()).isEqualTo(new Limits(1 << 20, 16 * 1024, 8 * 1024,
        Duration.ofSeconds(120), Limits.defaults().maxErrorBodyBytes()));
    assertThat(c.backends()).containsOnlyKeys("local", "openai");

    BackendSpec local = c.backends().get("local");
    assertThat(local.baseUrl()).isEqualTo(URI.create("http://127.0.0.1:8081/v1"));
    assertThat(local.enabled()).isTrue();
    assertThat(local.apiKeyEnv()).isEqualTo("LOCAL_MODEL_API_KEY");
    assertThat(local.apiKey()).isNull();
    assertThat(local.models()).containsExactly("local-model");
    assertThat(local.timeouts()).isEqualTo(new Timeouts(Duration.ofSeconds(2),
        Duration.ofSeconds(120), Duration.ofSeconds(60), Duration.ofMinutes(10)));
    assertThat(local.maxConnections()).isEqualTo(64);

    BackendSpec openai = c.backends().get("openai");
    assertThat(openai.enabled()).isTrue();
    assertThat(openai.disabledReason()).isNull();
    assertThat(openai.apiKey()).isEqualTo("sk-test-123");
    assertThat(openai.providerKey()).contains("sk-test-123");
    assertThat(openai.tls()).isTrue();
    assertThat(openai.host()).isEqualTo("api.openai.com");
    assertThat(openai.port()).isEqualTo(443);
    assertThat(openai.basePath()).isEqualTo("/v1");
    assertThat(openai.models()).containsExactly("gpt-4o-mini", "gpt-4o", "text-embedding-3-small");

    assertThat(c.models()).containsOnlyKeys("local", "gpt-4o-mini", "gpt-4o",
        "text-embedding-3-small");
    assertThat(c.models().keySet()).containsExactly("local", "gpt-4o-mini", "gpt-4o",
        "text-embedding-3-small");
    assertThat(c.models().get("local")).isEqualTo(new ModelAlias("local", "local", "local-model",
        "local", 0));
    assertThat(c.models().get("gpt-4o")).isEqualTo(new ModelAlias("gpt-4o", "openai", "gpt-4o",
        "openai", 0));
    assertThat(c.servableModels()).hasSize(4);
  }

  @Test
  void shippedFileLoadsWithOpenAiKeyUnset() throws Exception {
    GatewayConfig c = ConfigLoader.load(SHIPPED, Map.of());

    BackendSpec openai = c.backends().get("openai");
    assertThat(openai.enabled()).isFalse();
    assertThat(openai.disabledReason()).isEqualTo("OPENAI_API_KEY is not set");
    assertThat(openai.apiKey()).isNull();
    assertThat(c.backends().get("local").enabled()).isTrue();
    assertThat(c.models()).hasSize(4);
    assertThat(c.servableModels()).extracting(ModelAlias::alias).containsExactly("local");
  }

  @Test
  void anEmptyKeyDisablesAnIfKeySetBackend() throws Exception {
    GatewayConfig c = ConfigLoader.load(SHIPPED, Map.of("OPENAI_API_KEY", " "));

    assertThat(c.backends().get("openai").enabled()).isFalse();
    assertThat(c.backends().get("openai").disabledReason()).isEqualTo("OPENAI_API_KEY is empty");
  }

  @Test
  void environmentOverridesTheDefaults() throws Exception {
    GatewayConfig c = ConfigLoader.load(SHIPPED, Map.of(
        "LOCAL_MODEL_URL", "http://10.0.0.5:11434/v1",
        "LOCAL_MODEL_API_KEY", "local-secret",
        "GATEWAY_HOST", "0.0.0.0",
        "GATEWAY_PORT", "9090",
        "OPENAI_BASE_URL", "https://proxy.example.com/openai/v1"));

    assertThat(c.listener()).isEqualTo(new ListenerSpec("0.0.0.0", 9090));
    BackendSpec local = c.backends().get("local");
    assertThat(local.baseUrl()).isEqualTo(URI.create("http://10.0.0.5:11434/v1"));
    assertThat(local.host()).isEqualTo("10.0.0.5");
    assertThat(local.port()).isEqualTo(11434);
    assertThat(local.apiKey()).isEqualTo("local-secret");
    assertThat(c.backends().get("openai").basePath()).isEqualTo("/openai/v1");
  }

  @Test
  void anEmptyVariableTakesTheDefault() throws Exception {
    GatewayConfig c = ConfigLoader.load(SHIPPED, Map.of("LOCAL_MODEL_URL", ""));

    assertThat(c.backends().get("local").baseUrl()).isEqualTo(URI.create("http://127.0.0.1:8081/v1"));
  }

  @Test
  void backendToStringNeverCarriesTheKey() throws Exception {
    String key = "sk-live-abcdef0123456789";
    GatewayConfig c = ConfigLoader.load(SHIPPED, Map.of("OPENAI_API_KEY", key));

    assertThat(c.backends().get("openai").toString()).doesNotContain(key).contains("<redacted>");
    assertThat(c.toString()).doesNotContain(key);
  }

  @Test
  void omittedSectionsAndFieldsTakeTheirDefaults() throws Exception {
    GatewayConfig c = ConfigLoader.load(resource("minimal.yaml"), Map.of());

    assertThat(c.listener()).isEqualTo(new ListenerSpec("127.0.0.1", 8080));
    assertThat(c.limits()).isEqualTo(Limits.defaults());
    BackendSpec local = c.backends().get("local");
    assertThat(local.timeouts()).isEqualTo(Timeouts.defaults());
    assertThat(local.maxConnections()).isEqualTo(64);
    assertThat(local.apiKeyEnv()).isNull();
    assertThat(local.enabled()).isTrue();
    assertThat(c.models().get("local-model"))
        .isEqualTo(new ModelAlias("local-model", "local", "local-model", "local", 0));
  }

  @Test
  void explicitValuesAreCompiled() throws Exception {
    GatewayConfig c = ConfigLoader.parse(Path.of("t.yaml"), """
        listener: {host: 0.0.0.0, port: 0}
        limits:
          maxRequestBytes: 512KB
          maxHeaderBytes: 8192
          maxInitialLineBytes: 4 KiB
          clientIdleTimeout: 1500ms
          maxErrorBodyBytes: 1mb
        backends:
          vllm:
            baseUrl: HTTP://gpu-box:8000/
            enabled: false
            models: [llama]
            maxConnections: 8
            timeouts: {connect: 1s, total: 1h}
        models:
          fast:
            backend: vllm
            model: llama
            ownedBy: me
        """, Map.of());

    assertThat(c.listener().port()).isZero();
    assertThat(c.limits()).isEqualTo(new Limits(512_000, 8192, 4096, Duration.ofMillis(1500),
        1_000_000));
    BackendSpec vllm = c.backends().get("vllm");
    assertThat(vllm.enabled()).isFalse();
    assertThat(vllm.disabledReason()).contains("enabled: false");
    assertThat(vllm.maxConnections()).isEqualTo(8);
    assertThat(vllm.basePath()).isEmpty();
    assertThat(vllm.timeouts()).isEqualTo(new Timeouts(Duration.ofSeconds(1),
        Timeouts.defaults().firstByte(), Timeouts.defaults().idle(), Duration.ofHours(1)));
    assertThat(c.models().get("fast")).isEqualTo(new ModelAlias("fast", "vllm", "llama", "me", 0));
    assertThat(c.servableModels()).isEmpty();
  }

  @Test
  void aMissingFileIsReported() {
    Path missing = Path.of("no-such-dir", "gateway.yaml");
    assertThatThrownBy(() -> ConfigLoader.load(missing, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("gateway.yaml: file not found");
  }
}
