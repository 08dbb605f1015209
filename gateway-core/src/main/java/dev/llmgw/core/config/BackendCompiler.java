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
 */
final class BackendCompiler {

  /** How a backend's {@code enabled} was written. */
  enum Enabled { TRUE, FALSE, IF_KEY_SET }

  static final int DEFAULT_MAX_CONNECTIONS = 64;
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]*");

  private final Problems problems;
  private final Map<String, String> env;

  BackendCompiler(Problems problems, Map<String, String> env) {
    this.problems = problems;
    this.env = env;
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
        out.put(name, spec);
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
    URI url = problems.required(YamlPath.child(path, "baseUrl"), b.baseUrl(),
        "an http or https URL, e.g. http://127.0.0.1:8081/v1", ConfigValues::baseUrl);
    String keyEnv = problems.optional(YamlPath.child(path, "apiKeyEnv"), b.apiKeyEnv(), null,
        "an environment variable name, e.g. OPENAI_API_KEY", ConfigValues::envName);
    Enabled enabled = problems.optional(YamlPath.child(path, "enabled"), b.enabled(), Enabled.TRUE,
        "true, false or if-key-set", BackendCompiler::enabled);
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
    };
    return new BackendSpec(name, url, keyEnv, key, reason == null, reason, models, timeouts,
        maxConnections, resilience);
  }

  private static Enabled enabled(String s) {
    return switch (s) {
      case "true" -> Enabled.TRUE;
      case "false" -> Enabled.FALSE;
      case "if-key-set" -> Enabled.IF_KEY_SET;
      default -> throw new IllegalArgumentException(
          "'" + s + "' is not a valid setting (expected true, false or if-key-set)");
    };
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
