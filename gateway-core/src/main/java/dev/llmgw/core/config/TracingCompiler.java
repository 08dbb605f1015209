package dev.llmgw.core.config;

import dev.llmgw.core.config.raw.TracingYaml;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/** Validates and compiles the {@code tracing} section ({@link TracingSettings}); every problem is recorded. */
final class TracingCompiler {
  private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}");
  private static final Pattern SERVICE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}");

  private final Problems problems;
  private final Map<String, String> env;

  TracingCompiler(Problems problems, Map<String, String> env) {
    this.problems = problems;
    this.env = env;
  }

  /** The section; absent: tracing off. Null when a problem was recorded. */
  TracingSettings compile(TracingYaml t) {
    TracingSettings d = TracingSettings.off();
    if (t == null) {
      return d;
    }
    int before = problems.count();
    Boolean enabled = problems.optional("tracing.enabled", t.enabled(), false, "true or false",
        ConfigValues::bool);
    URI endpoint = problems.optional("tracing.endpoint", t.endpoint(), d.endpoint(),
        "an http or https URL, e.g. http://127.0.0.1:4318/v1/traces", TracingCompiler::endpoint);
    problems.optional("tracing.protocol", t.protocol(), TracingSettings.PROTOCOL, TracingSettings.PROTOCOL, p -> {
      if (!p.equals(TracingSettings.PROTOCOL)) {
        throw new IllegalArgumentException("'" + p + "' is not a supported protocol (expected "
            + TracingSettings.PROTOCOL + ": OTLP over HTTP)");
      }
      return p;
    });
    String ratioExpected = "a number 0..1, the share of new traces recorded (e.g. 0.1)";
    Double ratio = problems.optional("tracing.sampleRatio", t.sampleRatio(), 1.0, ratioExpected, s -> {
      try {
        double r = Double.parseDouble(s);
        if (r >= 0 && r <= 1) {
          return r;
        }
      } catch (NumberFormatException ignored) {
        // reported below
      }
      throw new IllegalArgumentException("'" + s + "' is not a ratio (expected " + ratioExpected + ")");
    });
    String serviceExpected = "a service name of letters, digits and _ . : / - (at most 64), e.g. llm-gateway";
    String service = problems.optional("tracing.serviceName", t.serviceName(), d.serviceName(), serviceExpected,
        s -> {
          if (!SERVICE.matcher(s).matches()) {
            throw new IllegalArgumentException("'" + s + "' is not a service name (expected " + serviceExpected + ")");
          }
          return s;
        });
    Map<String, String> headers = headers(t.headersEnv(), Boolean.TRUE.equals(enabled));
    if (problems.count() > before) {
      return null;
    }
    return new TracingSettings(enabled, endpoint, headers, ratio, service);
  }

  /** An http(s) URL; without a path, the OTLP traces path is added. */
  private static URI endpoint(String s) {
    URI u = ConfigValues.baseUrl(s);
    String path = u.getRawPath();
    return path == null || path.isEmpty() || path.equals("/") ? URI.create(u.toString().replaceAll("/$", "")
        + "/v1/traces") : u;
  }

  /** Header name → the value of the variable it names; an unset variable is a problem only when tracing is on. */
  private Map<String, String> headers(Map<String, String> raw, boolean enabled) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null) {
      return out;
    }
    raw.forEach((name, var) -> {
      String path = YamlPath.child("tracing.headersEnv", name);
      if (!HEADER_NAME.matcher(name).matches()) {
        problems.add(path, "'" + name + "' is not a header name (expected letters, digits and -, e.g."
            + " Authorization)");
        return;
      }
      String envName = problems.required(path, var, "an environment variable name, e.g. OTLP_AUTH",
          ConfigValues::envName);
      if (envName == null || !enabled) {
        return;
      }
      String value = env.get(envName);
      if (value == null || value.isBlank()) {
        problems.add(path, envName + (value == null ? " is not set" : " is empty")
            + " (expected the header's value in it, e.g. Bearer <token>)");
      } else if (value.strip().chars().anyMatch(c -> c < 0x20 || c > 0x7e)) {
        problems.add(path, "the value of " + envName + " contains control or non-ASCII characters (expected a"
            + " single-line header value; not shown)");
      } else {
        out.put(name, value.strip());
      }
    });
    return out;
  }
}
