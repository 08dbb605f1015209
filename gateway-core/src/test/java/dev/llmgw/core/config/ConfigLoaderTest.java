package dev.llmgw.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
    assertThat(c.backends()).containsOnlyKeys("local", "local-gguf", "openai");

    BackendSpec local = c.backends().get("local");
    assertThat(local.baseUrl()).isEqualTo(URI.create("http://127.0.0.1:8081/v1"));
    assertThat(local.enabled()).isTrue();
    assertThat(local.apiKeyEnv()).isEqualTo("LOCAL_MODEL_API_KEY");
    assertThat(local.apiKey()).isNull();
    assertThat(local.models()).containsExactly("local-model");
    assertThat(local.timeouts()).isEqualTo(new Timeouts(Duration.ofSeconds(2),
        Duration.ofSeconds(120), Duration.ofSeconds(60), Duration.ofMinutes(10)));
    assertThat(local.maxConnections()).isEqualTo(64);
    assertThat(local.resilience()).isEqualTo(new Resilience(8, null,
        new Resilience.Breaker(10, 5, 50f, Duration.ofMinutes(5), 100f, Duration.ofSeconds(10), 1),
        new Resilience.Retry(2, Duration.ofMillis(500), 2.0, Duration.ofSeconds(2)),
        new Resilience.HealthCheck("/models", Duration.ofSeconds(5), Duration.ofSeconds(2), 2, 1)));

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
    assertThat(openai.resilience()).isEqualTo(new Resilience(256, null,
        new Resilience.Breaker(20, 10, 50f, Duration.ofSeconds(60), 100f, Duration.ofSeconds(30), 3),
        new Resilience.Retry(2, Duration.ofMillis(200), 2.0, Duration.ofSeconds(2)), null));

    assertThat(c.failover()).isEqualTo(new Failover(Duration.ofSeconds(30), 4,
        Duration.ofSeconds(5), "local-gguf"));

    assertThat(c.models()).containsOnlyKeys("local", "local-gguf", "gpt-4o-mini", "gpt-4o",
        "text-embedding-3-small");
    assertThat(c.models().keySet()).containsExactly("local", "local-gguf", "gpt-4o-mini", "gpt-4o",
        "text-embedding-3-small");
    assertThat(c.models().get("local")).isEqualTo(new ModelAlias("local", "local", "local-model",
        "local", 2048, List.of(), Price.FREE));
    assertThat(c.models().get("gpt-4o")).isEqualTo(new ModelAlias("gpt-4o", "openai", "gpt-4o",
        "openai", 128_000, List.of("gpt-4o-mini", "local"), new Price(2.50, 1.25, 10.00)));
    assertThat(c.models().get("gpt-4o-mini").contextTokens()).isEqualTo(128_000);
    assertThat(c.models().get("text-embedding-3-small").contextTokens()).isZero();
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
    assertThat(c.models()).hasSize(5);
    assertThat(c.servableModels()).extracting(ModelAlias::alias).containsExactly("local");
    BackendSpec gguf = c.backends().get("local-gguf");
    assertThat(gguf.enabled()).as("no GGUF file: the in-process model is off").isFalse();
    assertThat(gguf.disabledReason()).isEqualTo("LOCAL_MODEL_PATH is not set (model: is empty)");
  }

  @Test
  void aGgufFileInLocalModelPathRunsTheModelInsideTheGateway() throws Exception {
    java.nio.file.Path stories = dev.llmgw.testkit.LlamaServer.stories();
    GatewayConfig c = ConfigLoader.load(SHIPPED, Map.of("LOCAL_MODEL_PATH", stories.toString()));

    BackendSpec gguf = c.backends().get("local-gguf");
    assertThat(gguf.enabled()).isTrue();
    assertThat(gguf.isInProcess()).isTrue();
    assertThat(gguf.inprocess().model()).isEqualTo(stories);
    assertThat(gguf.inprocess()).extracting(InProcessSpec::contextSize, InProcessSpec::maxSequences,
        InProcessSpec::queue, InProcessSpec::memoryLimit).containsExactly(2048, 2, 16, 4L << 30);
    assertThat(c.models().get("local-gguf").contextTokens()).isEqualTo(gguf.inprocess().contextSize());
    assertThat(c.failover().lastResort()).isEqualTo("local-gguf");
    assertThat(c.servableModels()).extracting(ModelAlias::alias).containsExactly("local", "local-gguf");
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
    assertThat(local.resilience()).isEqualTo(Resilience.defaults());
    assertThat(local.resilience().rateLimit()).isNull();
    assertThat(local.resilience().health()).isNull();
    assertThat(c.failover()).isEqualTo(Failover.defaults());
    assertThat(c.models().get("local-model"))
        .isEqualTo(new ModelAlias("local-model", "local", "local-model", "local", 0));
  }

  @Test
  void omittedResilienceAndFailoverFieldsTakeTheirDefaults() throws Exception {
    GatewayConfig c = ConfigLoader.parse(Path.of("t.yaml"), """
        failover: {maxAttempts: 2}
        backends:
          a:
            baseUrl: http://127.0.0.1:8081/v1
            models: [m]
            resilience:
              breaker: {window: 50}
              retry: {maxAttempts: 1}
              health: {}
          b:
            baseUrl: http://127.0.0.1:8082/v1
            models: [n]
            resilience:
              maxConcurrent: 4
              rateLimit: {requests: 10, per: 1s}
              health: {path: /health, interval: 30s}
          c:
            baseUrl: http://127.0.0.1:8083/v1
            models: [o]
            resilience:
              breaker:
              retry:
        models:
          m: {backend: a, contextTokens: 0}
          n: {backend: b}
          o: {backend: c}
        auth: {open: true}
        """, Map.of());

    Failover df = Failover.defaults();
    assertThat(c.failover()).isEqualTo(new Failover(df.deadline(), 2, df.maxRetryAfter()));

    Resilience d = Resilience.defaults();
    Resilience.Breaker db = d.breaker();
    Resilience a = c.backends().get("a").resilience();
    assertThat(a.maxConcurrent()).isEqualTo(d.maxConcurrent());
    assertThat(a.rateLimit()).isNull();
    assertThat(a.breaker()).isEqualTo(new Resilience.Breaker(50, db.minimumCalls(),
        db.failureRatePercent(), db.slowCall(), db.slowCallRatePercent(), db.openFor(),
        db.halfOpenCalls()));
    assertThat(a.retry()).isEqualTo(new Resilience.Retry(1, d.retry().initialBackoff(),
        d.retry().multiplier(), d.retry().maxBackoff()));
    assertThat(a.health()).isEqualTo(new Resilience.HealthCheck("/models", Duration.ofSeconds(10),
        Duration.ofSeconds(2), 3, 2));

    Resilience b = c.backends().get("b").resilience();
    assertThat(b.maxConcurrent()).isEqualTo(4);
    assertThat(b.rateLimit()).isEqualTo(new Resilience.RateLimit(10, Duration.ofSeconds(1)));
    assertThat(b.breaker()).isEqualTo(db);
    assertThat(b.retry()).isEqualTo(d.retry());
    assertThat(b.health()).isEqualTo(new Resilience.HealthCheck("/health",
        Duration.ofSeconds(30), Duration.ofSeconds(2), 3, 2));

    assertThat(c.backends().get("c").resilience()).isEqualTo(d);
    assertThat(c.models().get("m").contextTokens()).isZero();
    assertThat(c.models().get("n").contextTokens()).isZero();
  }

  @Test
  void resilienceValuesAreCompiled() throws Exception {
    GatewayConfig c = ConfigLoader.parse(Path.of("t.yaml"), """
        failover:
          deadline: 2m
          maxAttempts: 20
          maxRetryAfter: 1500ms
        backends:
          vllm:
            baseUrl: http://gpu-box:8000/v1
            models: [llama]
            resilience:
              maxConcurrent: ${VLLM_CONCURRENCY:-32}
              rateLimit: {requests: 3000, per: 1m}
              breaker:
                window: 10
                minimumCalls: 10
                failureRate: 12.5%
                slowCall: 90s
                slowCallRate: 80
                openFor: 1m
                halfOpenCalls: 1
              retry: {maxAttempts: 10, initialBackoff: 1s, multiplier: 1, maxBackoff: 1s}
              health: {path: '/health?deep=1', interval: 2s, timeout: 1999ms, unhealthyAfter: 1,
                       healthyAfter: 5}
        models:
          llama: {backend: vllm, contextTokens: 32768}
        auth: {open: true}
        """, Map.of("VLLM_CONCURRENCY", "48"));

    assertThat(c.failover()).isEqualTo(new Failover(Duration.ofMinutes(2), 20,
        Duration.ofMillis(1500)));
    assertThat(c.backends().get("vllm").resilience()).isEqualTo(new Resilience(48,
        new Resilience.RateLimit(3000, Duration.ofMinutes(1)),
        new Resilience.Breaker(10, 10, 12.5f, Duration.ofSeconds(90), 80f, Duration.ofMinutes(1), 1),
        new Resilience.Retry(10, Duration.ofSeconds(1), 1.0, Duration.ofSeconds(1)),
        new Resilience.HealthCheck("/health?deep=1", Duration.ofSeconds(2),
            Duration.ofMillis(1999), 1, 5)));
    assertThat(c.models().get("llama").contextTokens()).isEqualTo(32768);
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
        auth: {open: true}
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
