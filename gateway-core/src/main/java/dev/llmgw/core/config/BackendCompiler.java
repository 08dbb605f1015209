package dev.llmgw.core.config;

import dev.llmgw.core.config.raw.BackendYaml;
import dev.llmgw.core.config.raw.TimeoutsYaml;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Validates the {@code backends} section and compiles it into {@link BackendSpec}s, reading each
 * backend's provider key from the environment variable its {@code apiKeyEnv} names.
 *
 * <p>A backend of {@code type: inprocess} names a GGUF file instead of a URL. Its header is read here
 * ({@link GgufFile}): a file that is missing, not GGUF, truncated or, by the header's estimate, larger
 * than the backend's {@code memoryLimit} does not stop the load — the backend is compiled disabled,
 * with the reason and {@code file:line} in {@link InProcessSpec#problem()}, so the gateway keeps
 * serving its other backends; {@code validate} reports it as a problem.
 */
final class BackendCompiler {

  /** How a backend's {@code enabled} was written. */
  enum Enabled { TRUE, FALSE, IF_KEY_SET, IF_MODEL_SET }

  static final String INPROCESS = "inprocess";
  private static final long MAX_MEMORY = 1L << 50;

  static final int DEFAULT_MAX_CONNECTIONS = 64;
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]*");

  private final Problems problems;
  private final Map<String, String> env;
  private final java.nio.file.Path baseDir;
  private final Map<String, List<Integer>> variableLines;

  BackendCompiler(Problems problems, Map<String, String> env) {
    this(problems, env, null, Map.of());
  }

  /**
   * @param baseDir       the config file's directory (model paths are relative to it), or null for
   *                      the working directory
   * @param variableLines the environment variables the file refers to, with the lines of each (for
   *                      messages that name the variable behind an empty value)
   */
  BackendCompiler(Problems problems, Map<String, String> env, java.nio.file.Path baseDir,
      Map<String, List<Integer>> variableLines) {
    this.problems = problems;
    this.env = env;
    this.baseDir = baseDir;
    this.variableLines = variableLines;
  }

  /** Every valid backend, in file order; the invalid ones are reported and left out. */
  Map<String, BackendSpec> compileAll(Map<String, BackendYaml> raw) {
    Map<String, BackendSpec> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      problems.add("backends", "no backends (expected at least one, e.g."
          + " local: {baseUrl: http://127.0.0.1:8081/v1, models: [local-model]})");
      return out;
    }
    raw.forEach((name, backend) -> {
      BackendSpec spec = compile(name, backend);
      if (spec != null) {
        String address = YamlPath.child(YamlPath.child("backends", name), spec.isInProcess() ? "model" : "baseUrl");
        out.put(name, spec.withAddressEnv(variableOn(problems.index().line(address))));
      }
    });
    return out;
  }

  private BackendSpec compile(String name, BackendYaml b) {
    String path = YamlPath.child("backends", name);
    int before = problems.count();
    if (!NAME.matcher(name).matches()) {
      problems.add(path, "backend name '" + name + "' is not valid (expected lowercase letters,"
          + " digits, '_' and '-', starting with a letter or digit)");
    }
    if (b == null) {
      problems.add(path, "no settings (expected a mapping with at least baseUrl and models)");
      return null;
    }
    String type = b.type() == null ? "http" : b.type().strip();
    if (type.equals(INPROCESS)) {
      return compileInProcess(name, path, b, before);
    }
    if (!type.equals("http")) {
      problems.add(YamlPath.child(path, "type"), "'" + type + "' is not a backend type (expected http, a server"
          + " reached at baseUrl, or inprocess, a GGUF file run inside the gateway)");
      return null;
    }
    for (String key : List.of("model", "contextSize", "threads", "maxSequences", "queue", "memoryLimit",
        "chatTemplate")) {
      if (problems.present(YamlPath.child(path, key))) {
        problems.add(YamlPath.child(path, key), key + " is a setting of in-process backends (expected type:"
            + " inprocess with it, or baseUrl for a server)");
      }
    }
    URI url = problems.required(YamlPath.child(path, "baseUrl"), b.baseUrl(),
        "an http or https URL, e.g. http://127.0.0.1:8081/v1", ConfigValues::baseUrl);
    String keyEnv = problems.optional(YamlPath.child(path, "apiKeyEnv"), b.apiKeyEnv(), null,
        "an environment variable name, e.g. OPENAI_API_KEY", ConfigValues::envName);
    Enabled enabled = problems.optional(YamlPath.child(path, "enabled"), b.enabled(), Enabled.TRUE,
        "true, false or if-key-set", BackendCompiler::enabled);
    if (enabled == Enabled.IF_MODEL_SET) {
      problems.add(YamlPath.child(path, "enabled"), "'if-model-set' is for inprocess backends (expected true, false"
          + " or if-key-set)");
    }
    if (enabled == Enabled.IF_KEY_SET && b.apiKeyEnv() == null) {
      problems.add(YamlPath.child(path, "enabled"), "'if-key-set' needs a key variable"
          + " (expected apiKeyEnv: NAME_OF_THE_KEY_VARIABLE on this backend)");
    }
    List<String> models = models(YamlPath.child(path, "models"), b.models());
    Timeouts timeouts = timeouts(YamlPath.child(path, "timeouts"), b.timeouts());
    Integer maxConnections = problems.optional(YamlPath.child(path, "maxConnections"),
        b.maxConnections(), DEFAULT_MAX_CONNECTIONS, "a positive integer, e.g. 64",
        ConfigValues::positiveInt);
    Resilience resilience = new ResilienceCompiler(problems)
        .resilience(YamlPath.child(path, "resilience"), b.resilience());
    if (problems.count() > before || resilience == null) {
      return null;
    }
    String key = enabled == Enabled.FALSE || keyEnv == null ? null : env.get(keyEnv);
    key = key == null || key.isBlank() ? null : key.strip();
    if (key != null && key.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
      // it becomes an HTTP header value: refuse what could split or corrupt the header (value not shown)
      problems.add(YamlPath.child(path, "apiKeyEnv"), "the value of " + keyEnv + " contains spaces, control or"
          + " non-ASCII characters (expected a single-line key of printable ASCII)");
      key = null;
    }
    String reason = switch (enabled) {
      case TRUE -> null;
      case FALSE -> "disabled in the config (enabled: false)";
      case IF_KEY_SET -> key != null ? null
          : keyEnv + (env.get(keyEnv) == null ? " is not set" : " is empty");
      case IF_MODEL_SET -> "if-model-set on an http backend";
    };
    return new BackendSpec(name, url, keyEnv, key, reason == null, reason, models, timeouts,
        maxConnections, resilience);
  }

  private static Enabled enabled(String s) {
    return switch (s) {
      case "true" -> Enabled.TRUE;
      case "false" -> Enabled.FALSE;
      case "if-key-set" -> Enabled.IF_KEY_SET;
      case "if-model-set" -> Enabled.IF_MODEL_SET;
      default -> throw new IllegalArgumentException(
          "'" + s + "' is not a valid setting (expected true, false or if-key-set)");
    };
  }

  /** A backend of {@code type: inprocess}: a GGUF file run inside the gateway. */
  private BackendSpec compileInProcess(String name, String path, BackendYaml b, int before) {
    for (String key : List.of("baseUrl", "apiKeyEnv", "maxConnections")) {
      if (problems.present(YamlPath.child(path, key))) {
        problems.add(YamlPath.child(path, key), key + " is a setting of http backends (an inprocess backend runs"
            + " its model file: expected model: path/to/model.gguf)");
      }
    }
    if (b.resilience() != null && b.resilience().health() != null) {
      problems.add(YamlPath.child(path, "resilience.health"), "an inprocess backend has no health check to"
          + " configure (expected none: the gateway knows whether the model is loaded)");
    }
    String enabledPath = YamlPath.child(path, "enabled");
    Enabled enabled = problems.optional(enabledPath, b.enabled(), Enabled.TRUE,
        "true, false or if-model-set", s -> {
          Enabled e = enabled(s);
          if (e == Enabled.IF_KEY_SET) {
            throw new IllegalArgumentException("'if-key-set' needs a provider key, which an inprocess backend does"
                + " not have (expected true, false or if-model-set)");
          }
          return e;
        });
    List<String> models = models(YamlPath.child(path, "models"), b.models());
    Timeouts timeouts = timeouts(YamlPath.child(path, "timeouts"), b.timeouts());
    Resilience resilience = new ResilienceCompiler(problems)
        .resilience(YamlPath.child(path, "resilience"), b.resilience());
    String modelPath = YamlPath.child(path, "model");
    String rawModel = b.model() == null ? null : b.model().strip();
    if (rawModel == null && !problems.present(modelPath)) {
      problems.add(modelPath, "missing (expected the path of a GGUF model file, e.g. model: models/model.gguf)");
    }
    Integer contextSize = problems.optional(YamlPath.child(path, "contextSize"), b.contextSize(), 0,
        "tokens of context per sequence, an integer 16..1048576", s -> ConfigValues.intIn(s, 16, 1 << 20,
            "tokens of context per sequence, an integer 16..1048576"));
    Integer threads = problems.optional(YamlPath.child(path, "threads"), b.threads(),
        InProcessSpec.defaultThreads(), "CPU threads, an integer 1..256",
        s -> ConfigValues.intIn(s, 1, 256, "CPU threads, an integer 1..256"));
    Integer sequences = problems.optional(YamlPath.child(path, "maxSequences"), b.maxSequences(),
        InProcessSpec.DEFAULT_MAX_SEQUENCES, "sequences generated at once, an integer 1..256",
        s -> ConfigValues.intIn(s, 1, 256, "sequences generated at once, an integer 1..256"));
    Integer queue = problems.optional(YamlPath.child(path, "queue"), b.queue(), InProcessSpec.DEFAULT_QUEUE,
        "requests that may wait for a sequence, an integer 0..100000",
        s -> ConfigValues.intIn(s, 0, 100_000, "requests that may wait for a sequence, an integer 0..100000"));
    Long memoryLimit = problems.optional(YamlPath.child(path, "memoryLimit"), b.memoryLimit(), 0L,
        "a size, e.g. 4GiB", BackendCompiler::memory);
    String template = problems.optional(YamlPath.child(path, "chatTemplate"), b.chatTemplate(), null,
        "a chat template name llama.cpp knows, e.g. chatml or llama3",
        s -> {
          if (!s.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new IllegalArgumentException("'" + s + "' is not a template name (expected a name llama.cpp"
                + " knows, e.g. chatml, llama2, llama3, mistral-v7, phi3, gemma)");
          }
          return s;
        });
    if (problems.count() > before || enabled == null || models == null || timeouts == null || resilience == null
        || contextSize == null || threads == null || sequences == null || queue == null || memoryLimit == null) {
      return null;
    }
    String where = problems.where(modelPath);
    if (enabled == Enabled.FALSE) {
      return disabledInProcess(name, path(rawModel == null ? "" : rawModel), contextSize, threads, sequences, queue,
          memoryLimit, template, where, "disabled in the config (enabled: false)", null, models, timeouts, resilience);
    }
    if (rawModel == null || rawModel.isEmpty()) {
      String variable = variableOn(problems.index().line(modelPath));
      String why = variable != null ? variable + " is not set (model: is empty)" : "model: is empty";
      if (enabled != Enabled.IF_MODEL_SET) {
        problems.add(modelPath, why + " (expected the path of a GGUF model file, or enabled: if-model-set to"
            + " leave the backend off without one)");
        return null;
      }
      return disabledInProcess(name, path(""), contextSize, threads, sequences, queue, memoryLimit, template, where,
          why, null, models, timeouts, resilience);
    }
    java.nio.file.Path file = path(rawModel);
    GgufFile.Info info;
    try {
      info = GgufFile.read(file, false);
    } catch (GgufFile.GgufException e) {
      String why = "model file " + file + ": " + e.getMessage();
      return disabledInProcess(name, file, contextSize, threads, sequences, queue, memoryLimit, template, where,
          why, why, models, timeouts, resilience);
    }
    int context = contextSize > 0 ? contextSize
        : info.contextLength() > 0 ? Math.min(info.contextLength(), InProcessSpec.DEFAULT_CONTEXT_CAP)
        : 2048;
    GgufFile.Estimate estimate = info.estimate((long) context * sequences);
    String problem = null;
    if (memoryLimit > 0 && estimate.total() > memoryLimit) {
      problem = "model file " + file + " needs about " + GgufFile.sizeText(estimate.total()) + " (weights "
          + GgufFile.sizeText(estimate.weights()) + ", KV cache " + GgufFile.sizeText(estimate.kvCache()) + " for "
          + sequences + " x " + context + " tokens, working buffers " + GgufFile.sizeText(estimate.buffers())
          + "), more than memoryLimit " + GgufFile.sizeText(memoryLimit)
          + " (expected a smaller model, contextSize or maxSequences, or a larger memoryLimit)";
    }
    InProcessSpec spec = new InProcessSpec(file, context, threads, sequences, queue, memoryLimit, template,
        estimate.total(), info.describe(), problem, where);
    return new BackendSpec(name, BackendSpec.INPROCESS_URL, null, null, problem == null, problem, models, timeouts,
        Math.max(sequences + queue, 1), resilience, spec);
  }

  private BackendSpec disabledInProcess(String name, java.nio.file.Path file, int contextSize, int threads,
      int sequences, int queue, long memoryLimit, String template, String where, String why, String problem,
      List<String> models, Timeouts timeouts, Resilience resilience) {
    InProcessSpec spec = new InProcessSpec(file, contextSize > 0 ? contextSize : 2048, threads, sequences, queue,
        memoryLimit, template, 0, null, problem, where);
    return new BackendSpec(name, BackendSpec.INPROCESS_URL, null, null, false, why, models, timeouts,
        Math.max(sequences + queue, 1), resilience, spec);
  }

  private java.nio.file.Path path(String raw) {
    java.nio.file.Path p = java.nio.file.Path.of(raw);
    java.nio.file.Path dir = baseDir != null ? baseDir : java.nio.file.Path.of("").toAbsolutePath();
    return dir.resolve(p).toAbsolutePath().normalize();
  }

  /** The environment variable referred to on a line, or null. */
  private String variableOn(int line) {
    if (line <= 0) {
      return null;
    }
    for (Map.Entry<String, List<Integer>> e : variableLines.entrySet()) {
      if (e.getValue().contains(line)) {
        return e.getKey();
      }
    }
    return null;
  }

  /** A memory size: a number with B, KB, MB, GB, TB or KiB, MiB, GiB, TiB. */
  static long memory(String s) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)\\s*([kmgt]i?b|b)?",
        java.util.regex.Pattern.CASE_INSENSITIVE).matcher(s.strip());
    String expected = "a size, e.g. 512MiB or 4GiB";
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + s + "' is not a size (expected " + expected + ")");
    }
    String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(java.util.Locale.ROOT);
    long mult = switch (unit) {
      case "b" -> 1L;
      case "kb" -> 1000L;
      case "mb" -> 1000L * 1000;
      case "gb" -> 1000L * 1000 * 1000;
      case "tb" -> 1000L * 1000 * 1000 * 1000;
      case "kib" -> 1L << 10;
      case "mib" -> 1L << 20;
      case "gib" -> 1L << 30;
      default -> 1L << 40;
    };
    long v;
    try {
      v = Math.multiplyExact(Long.parseLong(m.group(1)), mult);
    } catch (ArithmeticException | NumberFormatException e) {
      v = Long.MAX_VALUE;
    }
    if (v == 0 || v > MAX_MEMORY) {
      throw new IllegalArgumentException("'" + s + "' is out of range (expected " + expected + ", above 0)");
    }
    return v;
  }

  private List<String> models(String path, List<String> raw) {
    String expected = "a list of the model names this backend serves, e.g. [local-model]";
    if (raw == null) {
      if (!problems.present(path)) {
        problems.add(path, "missing (expected " + expected + ")");
      } else {
        problems.add(path, "no value (expected " + expected + ")");
      }
      return null;
    }
    if (raw.isEmpty()) {
      problems.add(path, "empty list (expected " + expected + ")");
      return null;
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < raw.size(); i++) {
      String m = raw.get(i) == null ? "" : raw.get(i).strip();
      String at = YamlPath.element(path, i);
      if (m.isEmpty()) {
        problems.add(at, "empty model name (expected a model name such as gpt-4o-mini)");
      } else if (out.contains(m)) {
        problems.add(at, "'" + m + "' is listed twice (expected each model once)");
      } else {
        out.add(m);
      }
    }
    return out;
  }

  private Timeouts timeouts(String path, TimeoutsYaml t) {
    Timeouts d = Timeouts.defaults();
    if (t == null) {
      return d;
    }
    Duration connect = duration(path, "connect", t.connect(), d.connect());
    Duration firstByte = duration(path, "firstByte", t.firstByte(), d.firstByte());
    Duration idle = duration(path, "idle", t.idle(), d.idle());
    Duration total = duration(path, "total", t.total(), d.total());
    notLonger(path, "firstByte", firstByte, total);
    notLonger(path, "idle", idle, total);
    return new Timeouts(connect, firstByte, idle, total);
  }

  private Duration duration(String path, String key, String raw, Duration def) {
    return problems.optional(YamlPath.child(path, key), raw, def,
        "a duration, " + ConfigValues.DURATION_EXPECTED, ConfigValues::duration);
  }

  private void notLonger(String path, String key, Duration value, Duration total) {
    if (value != null && total != null && value.compareTo(total) > 0) {
      problems.add(YamlPath.child(path, key), "'" + format(value) + "' is longer than total '"
          + format(total) + "' (expected " + key + " <= total)");
    }
  }

  /** Formats a duration the way the file writes it: {@code 90s}, {@code 10m}, {@code 500ms}. */
  static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
  }
}
