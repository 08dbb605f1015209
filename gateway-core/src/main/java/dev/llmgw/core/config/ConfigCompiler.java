package dev.llmgw.core.config;

import dev.llmgw.core.config.raw.BackendYaml;
import dev.llmgw.core.config.raw.GatewayYaml;
import dev.llmgw.core.config.raw.LimitsYaml;
import dev.llmgw.core.config.raw.ListenerYaml;
import dev.llmgw.core.config.raw.ModelYaml;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The second phase of loading: validates the bound {@link GatewayYaml} and compiles it into a
 * {@link GatewayConfig}. Every problem is recorded; nothing is built when there is any.
 */
final class ConfigCompiler {

  /** Alias reserved for tier routing. */
  static final String RESERVED_ALIAS = "auto";
  static final String DEFAULT_HOST = "127.0.0.1";
  static final int DEFAULT_PORT = 8080;
  static final String CONTEXT_TOKENS_EXPECTED = "the model's context window in tokens, an integer"
      + " 0 or above, e.g. 128000 (0 = unknown)";

  private final Problems problems;
  private final Map<String, String> env;
  private final Map<String, List<Integer>> variableLines;

  ConfigCompiler(Problems problems, Map<String, String> env) {
    this(problems, env, Map.of());
  }

  /** @param variableLines the environment variables the file refers to, with their lines (for messages) */
  ConfigCompiler(Problems problems, Map<String, String> env, Map<String, List<Integer>> variableLines) {
    this.problems = problems;
    this.env = env;
    this.variableLines = variableLines;
  }

  /** The compiled configuration, or {@code null} when any problem was recorded. */
  GatewayConfig compile(Path source, GatewayYaml raw) {
    ListenerSpec listener = listener(raw.listener());
    Limits limits = limits(raw.limits());
    Failover failover = new ResilienceCompiler(problems).failover(raw.failover());
    Map<String, BackendYaml> rawBackends = raw.backends() == null ? Map.of() : raw.backends();
    Path dir = source == null || source.toAbsolutePath().getParent() == null ? null
        : source.toAbsolutePath().getParent();
    Map<String, BackendSpec> backends = new BackendCompiler(problems, env, dir, variableLines)
        .compileAll(raw.backends());
    Map<String, ModelAlias> models = models(raw.models(), rawBackends);
    if (failover != null && failover.lastResort() != null && raw.models() != null
        && !raw.models().containsKey(failover.lastResort())) {
      problems.add("failover.lastResort", "'" + failover.lastResort() + "' is not a configured model alias (expected"
          + " one of: " + String.join(", ", raw.models().keySet()) + ")");
    }
    Economics economics = economics(raw.economics(), models);
    Access access = new AccessCompiler(problems, env, source).compile(raw.auth(),
        connections(raw.limits()), raw.models() == null ? Set.of() : raw.models().keySet());
    StateSettings state = state(raw.state(), source);
    CacheSettings cache = new CacheCompiler(problems).compile(raw.cache(),
        raw.models() == null ? Set.of() : raw.models().keySet());
    TracingSettings tracing = new TracingCompiler(problems, env).compile(raw.tracing());
    if (problems.hasErrors() || failover == null || economics == null || access == null || state == null
        || cache == null || tracing == null) {
      return null;
    }
    return new GatewayConfig(source, listener, limits, backends, models, failover, economics,
        access, state, cache, tracing);
  }

  /** The {@code state} section; absent: the embedded store in {@code state/gateway.mv} beside the config. */
  private StateSettings state(dev.llmgw.core.config.raw.StateYaml s, Path source) {
    Path dir = source == null || source.toAbsolutePath().getParent() == null ? Path.of("").toAbsolutePath()
        : source.toAbsolutePath().getParent();
    if (s == null) {
      return new StateSettings(StateSettings.Store.EMBEDDED, dir.resolve("state/gateway.mv").normalize(),
          StateSettings.DEFAULT_FLUSH, null, StateSettings.DEFAULT_PREFIX, StateSettings.DEFAULT_TIMEOUT, true);
    }
    String storeExpected = "one of: embedded, redis, memory";
    StateSettings.Store store = problems.optional("state.store", s.store(), StateSettings.Store.EMBEDDED,
        storeExpected, v -> switch (v.strip()) {
          case "embedded" -> StateSettings.Store.EMBEDDED;
          case "redis" -> StateSettings.Store.REDIS;
          case "memory" -> StateSettings.Store.MEMORY;
          default -> throw new IllegalArgumentException("'" + v.strip() + "' is not a store (expected "
              + storeExpected + ")");
        });
    Path path = problems.optional("state.path", s.path(), dir.resolve("state/gateway.mv").normalize(),
        "a file path, relative to this file's directory", v -> {
          if (v.isBlank()) {
            throw new IllegalArgumentException("an empty path (expected a file path, e.g. state/gateway.mv)");
          }
          return dir.resolve(v.strip()).normalize();
        });
    Duration flush = problems.optional("state.flushInterval", s.flushInterval(), StateSettings.DEFAULT_FLUSH,
        "a duration, " + ConfigValues.DURATION_EXPECTED, v -> {
          Duration d = ConfigValues.duration(v);
          if (d.isZero() || d.compareTo(Duration.ofSeconds(10)) > 0) {
            throw new IllegalArgumentException("'" + v.strip() + "' is out of range (expected 1ms..10s)");
          }
          return d;
        });
    var r = s.redis();
    String url = r == null ? null : r.url();
    if (store == StateSettings.Store.REDIS && (url == null || url.isBlank())) {
      problems.add("state.redis.url", "the redis store needs a URL (expected e.g. redis://127.0.0.1:6379)");
    } else if (url != null && !url.isBlank()) {
      try {
        java.net.URI u = java.net.URI.create(url.strip());
        if (!"redis".equals(u.getScheme()) && !"rediss".equals(u.getScheme()) || u.getHost() == null) {
          throw new IllegalArgumentException("bad");
        }
      } catch (IllegalArgumentException e) {
        problems.add("state.redis.url", "not a Redis URL (expected redis://[user:password@]host:port[/db] or"
            + " rediss://...)");
      }
    }
    String prefix = r == null || r.prefix() == null ? StateSettings.DEFAULT_PREFIX : r.prefix().strip();
    Duration timeout = problems.optional("state.redis.timeout", r == null ? null : r.timeout(),
        StateSettings.DEFAULT_TIMEOUT, "a duration, " + ConfigValues.DURATION_EXPECTED, ConfigValues::duration);
    String policyExpected = "failOpen (admit with this process's own limits) or failClosed (answer 503)";
    Boolean failOpen = problems.optional("state.redis.onUnavailable", r == null ? null : r.onUnavailable(), true,
        policyExpected, v -> switch (v.strip()) {
          case "failOpen" -> true;
          case "failClosed" -> false;
          default -> throw new IllegalArgumentException("'" + v.strip() + "' is not a policy (expected "
              + policyExpected + ")");
        });
    if (store == null || path == null || flush == null || timeout == null || failOpen == null) {
      return null;
    }
    return new StateSettings(store, path, flush, url == null ? null : url.strip(), prefix, timeout, failOpen);
  }

  private Economics economics(dev.llmgw.core.config.raw.EconomicsYaml e, Map<String, ModelAlias> models) {
    Economics d = Economics.defaults();
    if (e == null) {
      return d;
    }
    Map<String, Economics.WorkflowType> types = new LinkedHashMap<>();
    if (e.workflowTypes() != null) {
      e.workflowTypes().forEach((name, t) -> {
        String path = YamlPath.child("economics.workflowTypes", name);
        if (!name.matches("[a-z0-9][a-z0-9_.-]{0,63}")) {
          problems.add(path, "'" + name + "' is not a workflow type name (expected lower-case letters, digits,"
              + " '_', '.', '-', at most 64)");
          return;
        }
        if (name.equals(Economics.OTHER)) {
          problems.add(path, "'other' is reserved for unconfigured types (expected another name)");
          return;
        }
        String expected = "US dollars per minute of repair, a number >= 0 (e.g. 1.5)";
        Double cost = t == null || t.repairCostPerMinute() == null ? Double.valueOf(0)
            : problems.required(YamlPath.child(path, "repairCostPerMinute"), t.repairCostPerMinute(), expected, s -> {
              try {
                double v = Double.parseDouble(s.strip());
                if (v >= 0 && !Double.isInfinite(v)) {
                  return v;
                }
              } catch (NumberFormatException ignored) {
                // reported below
              }
              throw new IllegalArgumentException("'" + s + "' is not a cost (expected " + expected + ")");
            });
        if (cost != null) {
          types.put(name, new Economics.WorkflowType(name, cost));
        }
      });
    }
    Integer max = problems.optional("economics.maxWorkflows", e.maxWorkflows(), d.maxWorkflows(),
        "an integer 1..10000000", s -> ConfigValues.intIn(s, 1, 10_000_000, "an integer 1..10000000"));
    Duration expire = problems.optional("economics.expireAfter", e.expireAfter(), d.expireAfter(),
        "a duration, " + ConfigValues.DURATION_EXPECTED, ConfigValues::duration);
    String baseline = e.baselineModel();
    if (baseline != null && !models.isEmpty() && !models.containsKey(baseline)) {
      problems.add("economics.baselineModel", "'" + baseline + "' is not a configured model alias (expected one of: "
          + String.join(", ", models.keySet()) + ")");
    } else if (baseline != null && models.containsKey(baseline) && models.get(baseline).price() == null) {
      problems.add("economics.baselineModel", "'" + baseline + "' has no price (expected a priced alias)");
    }
    return max == null || expire == null ? null : new Economics(types, max, expire, baseline);
  }

  private ListenerSpec listener(ListenerYaml l) {
    if (l == null) {
      return new ListenerSpec(DEFAULT_HOST, DEFAULT_PORT);
    }
    String host = problems.optional("listener.host", l.host(), DEFAULT_HOST,
        "a host name or address to bind, e.g. 127.0.0.1 or 0.0.0.0",
        s -> ConfigValues.nonBlank(s, "a host name or address to bind, e.g. 127.0.0.1 or 0.0.0.0"));
    Integer port = problems.optional("listener.port", l.port(), DEFAULT_PORT,
        "an integer 0..65535", ConfigValues::port);
    return host == null || port == null ? null : new ListenerSpec(host, port);
  }

  private Limits limits(LimitsYaml l) {
    Limits d = Limits.defaults();
    if (l == null) {
      return d;
    }
    Integer request = size("maxRequestBytes", l.maxRequestBytes(), d.maxRequestBytes());
    Integer header = size("maxHeaderBytes", l.maxHeaderBytes(), d.maxHeaderBytes());
    Integer line = size("maxInitialLineBytes", l.maxInitialLineBytes(), d.maxInitialLineBytes());
    Duration idle = problems.optional("limits.clientIdleTimeout", l.clientIdleTimeout(),
        d.clientIdleTimeout(), "a duration, " + ConfigValues.DURATION_EXPECTED,
        ConfigValues::duration);
    Integer errorBody = size("maxErrorBodyBytes", l.maxErrorBodyBytes(), d.maxErrorBodyBytes());
    if (request == null || header == null || line == null || idle == null || errorBody == null) {
      return null;
    }
    return new Limits(request, header, line, idle, errorBody);
  }

  /** {@code limits.maxConnections} and {@code limits.requestReceiveTimeout}. */
  private Access.ConnectionLimits connections(LimitsYaml l) {
    Access.ConnectionLimits d = Access.ConnectionLimits.defaults();
    if (l == null) {
      return d;
    }
    String expected = "an integer 1..1000000: open client connections";
    Integer max = problems.optional("limits.maxConnections", l.maxConnections(),
        d.maxConnections(), expected, s -> ConfigValues.intIn(s, 1, 1_000_000, expected));
    Duration receive = problems.optional("limits.requestReceiveTimeout", l.requestReceiveTimeout(),
        d.requestReceiveTimeout(), "a duration, " + ConfigValues.DURATION_EXPECTED,
        ConfigValues::duration);
    return max == null || receive == null ? null : new Access.ConnectionLimits(max, receive);
  }

  private Integer size(String key, String raw, int def) {
    return problems.optional("limits." + key, raw, def, ConfigValues.SIZE_EXPECTED,
        ConfigValues::size);
  }

  private Map<String, ModelAlias> models(Map<String, ModelYaml> raw,
      Map<String, BackendYaml> backends) {
    Map<String, ModelAlias> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      problems.add("models", "no model aliases (expected at least one, e.g."
          + " gpt-4o-mini: {backend: openai})");
      return out;
    }
    raw.forEach((alias, m) -> {
      ModelAlias compiled = alias(alias, m, backends);
      if (compiled != null) {
        out.put(alias, compiled);
      }
    });
    raw.forEach((alias, m) -> checkFallbacks(alias, m, raw));
    return out;
  }

  private void checkFallbacks(String alias, ModelYaml m, Map<String, ModelYaml> raw) {
    if (m == null || m.fallbacks() == null) {
      return;
    }
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < m.fallbacks().size(); i++) {
      String fb = m.fallbacks().get(i);
      String path = YamlPath.child("models", alias) + ".fallbacks[" + i + "]";
      if (fb == null || !raw.containsKey(fb)) {
        problems.add(path, "'" + fb + "' is not a configured model alias (expected one of: "
            + String.join(", ", raw.keySet()) + ")");
      } else if (fb.equals(alias)) {
        problems.add(path, "'" + fb + "' is the alias itself (expected another alias)");
      } else if (!seen.add(fb)) {
        problems.add(path, "'" + fb + "' is listed twice (expected each fallback once)");
      }
    }
  }

  private Price price(String path, dev.llmgw.core.config.raw.PriceYaml p) {
    if (p == null) {
      return null;
    }
    String expected = "US dollars per million tokens, a number >= 0 (e.g. 2.5)";
    java.util.function.Function<String, Double> parse = s -> {
      try {
        double d = Double.parseDouble(s.strip());
        if (d < 0 || Double.isNaN(d) || Double.isInfinite(d)) {
          throw new IllegalArgumentException("'" + s + "' is not a price (expected " + expected + ")");
        }
        return d;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("'" + s + "' is not a price (expected " + expected + ")");
      }
    };
    Double input = problems.required(YamlPath.child(path, "input"), p.input(), expected, parse);
    Double output = problems.required(YamlPath.child(path, "output"), p.output(), expected, parse);
    Double cached = p.cachedInput() == null ? input
        : problems.required(YamlPath.child(path, "cachedInput"), p.cachedInput(), expected, parse);
    return input == null || output == null || cached == null ? null : new Price(input, cached, output);
  }

  private ModelAlias alias(String alias, ModelYaml m, Map<String, BackendYaml> backends) {
    String path = YamlPath.child("models", alias);
    String configured = backends.isEmpty() ? "none" : String.join(", ", backends.keySet());
    if (alias.isBlank()) {
      problems.add(path, "alias is blank (expected the model name clients send, e.g. gpt-4o-mini)");
      return null;
    }
    if (alias.equals(RESERVED_ALIAS)) {
      problems.add(path, "'auto' is reserved for tier routing (expected another alias)");
      return null;
    }
    if (m == null) {
      problems.add(path, "no settings (expected a mapping with backend: one of " + configured + ")");
      return null;
    }
    Integer contextTokens = problems.optional(YamlPath.child(path, "contextTokens"),
        m.contextTokens(), 0, CONTEXT_TOKENS_EXPECTED,
        s -> ConfigValues.intIn(s, 0, Integer.MAX_VALUE, CONTEXT_TOKENS_EXPECTED));
    String backendPath = YamlPath.child(path, "backend");
    String backend = problems.required(backendPath, m.backend(), "one of the configured backends: "
        + configured, s -> ConfigValues.nonBlank(s, "one of the configured backends: " + configured));
    if (backend == null) {
      return null;
    }
    BackendYaml target = backends.get(backend);
    if (!backends.containsKey(backend)) {
      problems.add(backendPath, "backend '" + backend + "' is not configured (expected "
          + (backends.isEmpty() ? "a backend under backends" : "one of: " + configured) + ")");
      return null;
    }
    String modelPath = m.model() == null ? path : YamlPath.child(path, "model");
    String model = problems.optional(YamlPath.child(path, "model"), m.model(), alias,
        "a model name served by backend '" + backend + "'",
        s -> ConfigValues.nonBlank(s, "a model name served by backend '" + backend + "'"));
    List<String> served = target == null || target.models() == null ? null
        : target.models().stream().filter(Objects::nonNull).map(String::strip).toList();
    if (model != null && served != null && !served.contains(model)) {
      problems.add(modelPath, "model '" + model + "'" + (m.model() == null ? " (the alias)" : "")
          + " is not served by backend '" + backend + "' (expected one of its models: "
          + String.join(", ", served) + ")");
      return null;
    }
    String ownedBy = problems.optional(YamlPath.child(path, "ownedBy"), m.ownedBy(), backend,
        "an owner name, e.g. openai", s -> ConfigValues.nonBlank(s, "an owner name, e.g. openai"));
    Price price = price(YamlPath.child(path, "price"), m.price());
    return model == null || ownedBy == null || contextTokens == null ? null
        : new ModelAlias(alias, backend, model, ownedBy, contextTokens,
            m.fallbacks() == null ? List.of() : m.fallbacks().stream().filter(Objects::nonNull).toList(), price);
  }
}
