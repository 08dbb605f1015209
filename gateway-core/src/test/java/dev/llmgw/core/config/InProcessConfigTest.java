package dev.llmgw.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.llmgw.testkit.LlamaServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backends of {@code type: inprocess} and {@code failover.lastResort} in gateway.yaml: what loads,
 * what is refused with file:line, and the model files that leave their backend disabled (the
 * gateway keeps serving the others) — missing, foreign, truncated, over the memory limit.
 */
class InProcessConfigTest {
  static final Path STORIES = LlamaServer.shared().resolve("llama/models/stories260K.gguf").toAbsolutePath();

  @TempDir
  Path dir;

  private GatewayConfig load(String backendSettings, Map<String, String> env) throws Exception {
    return ConfigLoader.parse(dir.resolve("gateway.yaml"), yaml(backendSettings), env);
  }

  /** Line 4 is {@code model:} when {@code settings} starts with it (see {@link #yaml}). */
  private static String yaml(String settings) {
    return """
        backends:
          tiny:
            type: inprocess
        %s
            models: [tiny-model]
          remote:
            baseUrl: http://127.0.0.1:9/v1
            models: [remote-model]
        models:
          tiny: { backend: tiny, model: tiny-model }
          remote: { backend: remote, model: remote-model, fallbacks: [tiny] }
        failover:
          lastResort: tiny
        auth: { open: true }
        """.formatted(settings.strip().indent(4).stripTrailing());
  }

  @Test
  void aGgufFileLoadsWithItsDefaults() throws Exception {
    GatewayConfig c = load("model: " + STORIES, Map.of());

    BackendSpec b = c.backends().get("tiny");
    assertThat(b.isInProcess()).isTrue();
    assertThat(b.enabled()).isTrue();
    assertThat(b.baseUrl()).isEqualTo(BackendSpec.INPROCESS_URL);
    InProcessSpec s = b.inprocess();
    assertThat(s.model()).isEqualTo(STORIES);
    assertThat(s.contextSize()).as("the trained context, at most 4096").isEqualTo(2048);
    assertThat(s.maxSequences()).isEqualTo(InProcessSpec.DEFAULT_MAX_SEQUENCES);
    assertThat(s.queue()).isEqualTo(InProcessSpec.DEFAULT_QUEUE);
    assertThat(s.threads()).isEqualTo(InProcessSpec.defaultThreads());
    assertThat(s.memoryLimit()).isZero();
    assertThat(s.problem()).isNull();
    assertThat(s.estimate()).isGreaterThan(Files.size(STORIES));
    assertThat(s.description()).isEqualTo("llama \"llama\", 292.8k parameters, trained context 2048, no chat template");
    assertThat(b.maxConnections()).as("sequences + queue: more connections only wait").isEqualTo(18);
    assertThat(c.failover().lastResort()).isEqualTo("tiny");
    assertThat(c.backends().get("remote").isInProcess()).isFalse();
  }

  @Test
  void explicitSettingsAndARelativePathAreCompiled() throws Exception {
    Path relative = dir.relativize(STORIES);
    GatewayConfig c = load("""
        model: %s
        contextSize: 512
        threads: 3
        maxSequences: 4
        queue: 0
        memoryLimit: 1GiB
        chatTemplate: chatml
        """.formatted(relative), Map.of());

    InProcessSpec s = c.backends().get("tiny").inprocess();
    assertThat(s.model()).isEqualTo(STORIES);
    assertThat(s).extracting(InProcessSpec::contextSize, InProcessSpec::threads, InProcessSpec::maxSequences,
        InProcessSpec::queue, InProcessSpec::memoryLimit, InProcessSpec::chatTemplate)
        .containsExactly(512, 3, 4, 0, 1L << 30, "chatml");
    assertThat(c.backends().get("tiny").enabled()).isTrue();
  }

  @Test
  void anUnsetModelVariableLeavesAnIfModelSetBackendOff() throws Exception {
    GatewayConfig c = load("""
        model: ${LOCAL_MODEL_PATH:-}
        enabled: if-model-set
        """, Map.of());

    BackendSpec b = c.backends().get("tiny");
    assertThat(b.enabled()).isFalse();
    assertThat(b.disabledReason()).isEqualTo("LOCAL_MODEL_PATH is not set (model: is empty)");
    assertThat(b.inprocess().problem()).as("not a problem: nothing was asked for").isNull();

    GatewayConfig set = load("""
        model: ${LOCAL_MODEL_PATH:-}
        enabled: if-model-set
        """, Map.of("LOCAL_MODEL_PATH", STORIES.toString()));
    assertThat(set.backends().get("tiny").enabled()).isTrue();
  }

  @Test
  void aMissingFileDisablesTheBackendAndNamesTheFileAndLine() throws Exception {
    Path missing = dir.resolve("models/missing.gguf");
    GatewayConfig c = load("model: models/missing.gguf", Map.of());

    BackendSpec b = c.backends().get("tiny");
    assertThat(b.enabled()).isFalse();
    assertThat(b.disabledReason()).isEqualTo("model file " + missing + ": no such file");
    assertThat(b.inprocess().problem()).isEqualTo(b.disabledReason());
    assertThat(b.inprocess().where()).isEqualTo(dir.resolve("gateway.yaml") + ":4");
    assertThat(c.backends().get("remote").enabled()).as("the other backends serve").isTrue();
  }

  @Test
  void aFileThatIsNotGgufDisablesTheBackend() throws Exception {
    Path text = dir.resolve("model.gguf");
    Files.writeString(text, "<html>404 Not Found</html> and some more text to pass the size check");

    BackendSpec b = load("model: model.gguf", Map.of()).backends().get("tiny");

    assertThat(b.enabled()).isFalse();
    assertThat(b.disabledReason()).isEqualTo("model file " + text
        + ": not a GGUF model file (it starts with \"<htm\", expected \"GGUF\")");
  }

  @Test
  void aTruncatedFileDisablesTheBackend() throws Exception {
    Path cut = dir.resolve("cut.gguf");
    byte[] all = Files.readAllBytes(STORIES);
    Files.write(cut, Arrays.copyOf(all, all.length / 2));

    BackendSpec b = load("model: cut.gguf", Map.of()).backends().get("tiny");

    assertThat(b.enabled()).isFalse();
    assertThat(b.disabledReason()).startsWith("model file " + cut + ": truncated: tensor ")
        .contains("but the file has " + all.length / 2 + " bytes");
  }

  @Test
  void aHeaderCutShortDisablesTheBackend() throws Exception {
    Path cut = dir.resolve("head.gguf");
    Files.write(cut, Arrays.copyOf(Files.readAllBytes(STORIES), 4000));

    BackendSpec b = load("model: head.gguf", Map.of()).backends().get("tiny");

    assertThat(b.enabled()).isFalse();
    assertThat(b.disabledReason()).contains("truncated");
  }

  @Test
  void aModelOverTheMemoryLimitDisablesTheBackend() throws Exception {
    GatewayConfig c = load("""
        model: %s
        memoryLimit: 8MiB
        """.formatted(STORIES), Map.of());

    BackendSpec b = c.backends().get("tiny");
    assertThat(b.enabled()).isFalse();
    assertThat(b.disabledReason()).startsWith("model file " + STORIES + " needs about ")
        .contains("KV cache 2.5 MiB for 2 x 2048 tokens")
        .endsWith("more than memoryLimit 8.0 MiB (expected a smaller model, contextSize or maxSequences, or a"
            + " larger memoryLimit)");
    assertThat(b.inprocess().problem()).isEqualTo(b.disabledReason());
  }

  @Test
  void misplacedSettingsAndBadValuesAreRefusedWithTheirLines() {
    List<ConfigError> errors = ConfigErrorsTest.errorsOf("""
        backends:
          tiny:
            type: inprocess
            baseUrl: http://127.0.0.1:8081/v1
            model: ""
            maxSequences: 0
            resilience: { health: { path: /models } }
            models: [tiny-model]
          remote:
            baseUrl: http://127.0.0.1:9/v1
            model: x.gguf
            enabled: if-model-set
            models: [remote-model]
          odd:
            type: grpc
            models: [m]
        models:
          tiny: { backend: tiny, model: tiny-model }
        failover:
          lastResort: tiny-model
        auth: { open: true }
        """);

    assertThat(errors).extracting(ConfigError::line, ConfigError::path, ConfigError::message).containsExactly(
        tuple(4, "backends.tiny.baseUrl", "baseUrl is a setting of http backends (an inprocess backend runs its"
            + " model file: expected model: path/to/model.gguf)"),
        tuple(6, "backends.tiny.maxSequences", "'0' is out of range (expected sequences generated at once, an"
            + " integer 1..256)"),
        tuple(7, "backends.tiny.resilience.health", "an inprocess backend has no health check to configure"
            + " (expected none: the gateway knows whether the model is loaded)"),
        tuple(11, "backends.remote.model", "model is a setting of in-process backends (expected type: inprocess"
            + " with it, or baseUrl for a server)"),
        tuple(12, "backends.remote.enabled", "'if-model-set' is for inprocess backends (expected true, false or"
            + " if-key-set)"),
        tuple(15, "backends.odd.type", "'grpc' is not a backend type (expected http, a server reached at baseUrl,"
            + " or inprocess, a GGUF file run inside the gateway)"),
        tuple(20, "failover.lastResort", "'tiny-model' is not a configured model alias (expected one of: tiny)"));
  }

  @Test
  void anEmptyModelOnAnEnabledBackendIsRefused() {
    List<ConfigError> errors = ConfigErrorsTest.errorsOf("""
        backends:
          tiny:
            type: inprocess
            model: ${LOCAL_MODEL_PATH:-}
            models: [tiny-model]
        models:
          tiny: { backend: tiny, model: tiny-model }
        auth: { open: true }
        """);

    assertThat(errors).extracting(ConfigError::line, ConfigError::path, ConfigError::message).containsExactly(
        tuple(4, "backends.tiny.model", "LOCAL_MODEL_PATH is not set (model: is empty) (expected the path of a"
            + " GGUF model file, or enabled: if-model-set to leave the backend off without one)"));
  }

  @Test
  void theHeaderOfTheTinyStoriesModelIsRead() throws Exception {
    GgufFile.Info info = GgufFile.read(STORIES, true);

    assertThat(info.version()).isEqualTo(3);
    assertThat(info.architecture()).isEqualTo("llama");
    assertThat(info.parameters()).isEqualTo(292_800);
    assertThat(info).extracting(GgufFile.Info::contextLength, GgufFile.Info::blockCount,
        GgufFile.Info::embeddingLength, GgufFile.Info::headCount, GgufFile.Info::headCountKv,
        GgufFile.Info::vocabSize).containsExactly(2048, 5, 64, 8, 4, 512);
    assertThat(info.hasChatTemplate()).isFalse();
    assertThat(info.addBos()).isNull();
    assertThat(info.tokenizer()).isEqualTo("llama");
    assertThat(info.addsBos()).as("SentencePiece: llama.cpp adds <s>").isTrue();
    assertThat(info.addsEos()).isFalse();
    assertThat(info.tokens()).hasSize(512).startsWith("<unk>", "<s>", "</s>", "<0x00>");
    // K and V in f16 for 5 layers of 4 heads of 8: 640 bytes a token
    assertThat(info.estimate(1000).kvCache()).isEqualTo(640_000);
    assertThat(GgufFile.read(STORIES, false).tokens()).isEmpty();
  }

  @Test
  void theReaderRefusesWhatIsNotAModel() throws IOException {
    Path empty = Files.write(dir.resolve("empty.gguf"), new byte[0]);
    Path v1 = Files.write(dir.resolve("v1.gguf"), withVersion(1));
    assertThatThrownBy(() -> GgufFile.read(empty, false)).hasMessage("not a GGUF model file (0 bytes)");
    assertThatThrownBy(() -> GgufFile.read(v1, false)).hasMessage("GGUF version 1 is not supported (expected 2 or 3)");
    assertThatThrownBy(() -> GgufFile.read(dir, false)).hasMessage("is a directory (expected a .gguf file)");
    assertThatThrownBy(() -> GgufFile.read(dir.resolve("nope.gguf"), false)).hasMessage("no such file");
  }

  private static byte[] withVersion(int version) throws IOException {
    byte[] b = Arrays.copyOf(Files.readAllBytes(STORIES), 64);
    b[4] = (byte) version;
    b[5] = 0;
    b[6] = 0;
    b[7] = 0;
    return b;
  }

  @Test
  void sizesAreShownForPeople() {
    assertThat(GgufFile.sizeText(1_185_376)).isEqualTo("1.1 MiB");
    assertThat(GgufFile.sizeText(900)).isEqualTo("900 bytes");
    assertThat(GgufFile.sizeText(5L << 30)).isEqualTo("5.0 GiB");
    assertThat("x".getBytes(StandardCharsets.UTF_8)).hasSize(1);
  }
}
