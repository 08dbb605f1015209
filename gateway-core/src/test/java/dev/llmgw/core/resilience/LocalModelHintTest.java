package dev.llmgw.core.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.ConfigLoader;
import dev.llmgw.core.config.GatewayConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Which backends are local models (their address read from LOCAL_MODEL_URL / LOCAL_MODEL_PATH), the
 * sentence a config gets, and when a failed request gets it.
 */
class LocalModelHintTest {
  static final Path SHIPPED = Path.of("..", "config", "gateway.yaml");

  static GatewayConfig parse(String yaml) throws Exception {
    return ConfigLoader.parse(Path.of("gateway.yaml"), yaml + "auth: { open: true }\n", Map.of());
  }

  @Test
  void theShippedConfigReadsBothVariablesForItsLocalModels() throws Exception {
    GatewayConfig c = ConfigLoader.load(SHIPPED, Map.of("OPENAI_API_KEY", "sk-test"));

    assertThat(c.backends().get("local").addressEnv()).isEqualTo("LOCAL_MODEL_URL");
    assertThat(c.backends().get("local-gguf").addressEnv()).isEqualTo("LOCAL_MODEL_PATH");
    assertThat(c.backends().get("openai").addressEnv()).isEqualTo("OPENAI_BASE_URL");
    assertThat(c.backends().values().stream().filter(LocalModelHint::isLocalModel).map(BackendSpec::name))
        .containsExactly("local", "local-gguf");
    assertThat(LocalModelHint.sentence(c)).isEqualTo("To point the gateway at a model, set LOCAL_MODEL_URL to a"
        + " model server's base URL (llama.cpp, Ollama or vLLM, e.g. http://127.0.0.1:11434/v1) or LOCAL_MODEL_PATH"
        + " to a GGUF file to run it inside the gateway, and restart it.");
  }

  @Test
  void theSentenceNamesOnlyTheVariablesTheConfigReads() throws Exception {
    GatewayConfig urlOnly = parse("""
        backends:
          mine: { baseUrl: "${LOCAL_MODEL_URL:-http://127.0.0.1:9/v1}", models: [m] }
        models:
          m: { backend: mine }
        """);
    assertThat(LocalModelHint.sentence(urlOnly)).isEqualTo("To point the gateway at a model, set LOCAL_MODEL_URL"
        + " to a model server's base URL (llama.cpp, Ollama or vLLM, e.g. http://127.0.0.1:11434/v1), and restart it.");

    GatewayConfig written = parse("""
        backends:
          mine: { baseUrl: "http://127.0.0.1:9/v1", models: [m] }
          other: { baseUrl: "${OTHER_URL:-http://127.0.0.1:10/v1}", models: [o] }
        models:
          m: { backend: mine }
          o: { backend: other }
        """);
    assertThat(written.backends().get("mine").addressEnv()).isNull();
    assertThat(written.backends().get("other").addressEnv()).isEqualTo("OTHER_URL");
    assertThat(LocalModelHint.sentence(written)).as("no local model variable: nothing to say").isNull();
  }

  @Test
  void aFailedRequestGetsTheSentenceOnlyWhenItsLocalModelsWereUnreachable() throws Exception {
    GatewayConfig c = ConfigLoader.load(SHIPPED, Map.of("OPENAI_API_KEY", "sk-test"));
    BackendGuards guards = new BackendGuards();
    LocalModelHint hint = new LocalModelHint(guards, () -> c);
    BackendSpec local = c.backends().get("local");
    BackendSpec openai = c.backends().get("openai");
    String sentence = LocalModelHint.sentence(c);

    assertThat(hint.forUnavailable(List.of(openai, local), Set.of("local")::contains)).isEqualTo(sentence);
    assertThat(hint.forUnavailable(List.of(openai, local), Set.of("openai", "local")::contains)).isEqualTo(sentence);
    assertThat(hint.forUnavailable(List.of(openai, local), Set.of("openai")::contains))
        .as("local was reachable (busy, say): a model is there").isNull();
    assertThat(hint.forUnavailable(List.of(openai), Set.of("openai")::contains))
        .as("no local model among the candidates").isNull();
    assertThat(LocalModelHint.NONE.forUnavailable(List.of(local), Set.of("local")::contains)).isNull();
  }

  @Test
  void aLoadedInProcessModelOutsideThePlanSilencesIt() throws Exception {
    Path stories = Path.of("..", "..", "shared", "llama", "models", "stories260K.gguf").toAbsolutePath();
    GatewayConfig c = ConfigLoader.load(SHIPPED, Map.of("LOCAL_MODEL_PATH", stories.toString()));
    BackendGuards guards = new BackendGuards();
    LocalModelHint hint = new LocalModelHint(guards, () -> c);
    BackendSpec local = c.backends().get("local");
    BackendSpec gguf = c.backends().get("local-gguf");
    assertThat(gguf.enabled()).as("the model file reads").isTrue();

    guards.guard(gguf).healthy(false); // its model did not load
    assertThat(hint.forUnavailable(List.of(local), Set.of("local")::contains)).isNotNull();
    guards.guard(gguf).healthy(true); // loaded
    assertThat(hint.forUnavailable(List.of(local), Set.of("local")::contains)).isNull();
  }

  @Test
  void atStartItWaitsForTheServersFirstCheckAndSaysWhy() throws Exception {
    GatewayConfig c = ConfigLoader.load(SHIPPED, Map.of());
    LocalModelHint hint = new LocalModelHint(new BackendGuards(), () -> c);
    CompletableFuture<String> refused = new CompletableFuture<>();
    CompletableFuture<String> said = hint.announce(c, n -> n.equals("local") ? refused : null, n -> null);
    assertThat(said).isNotDone();
    refused.complete("ConnectException");
    assertThat(said).isCompletedWithValue("no local model is up (local: no model server answers at"
        + " http://127.0.0.1:8081/v1 (ConnectException); local-gguf: LOCAL_MODEL_PATH is not set (model: is empty)). "
        + LocalModelHint.sentence(c));

    CompletableFuture<String> answered = CompletableFuture.completedFuture(null);
    assertThat(hint.announce(c, n -> answered, n -> null)).as("the server answered").isCompletedWithValue(null);
    assertThat(hint.announce(c, n -> null, n -> null)).as("a server without a health check: nothing known")
        .isCompletedWithValue(null);
  }
}
