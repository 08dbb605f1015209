package dev.llmgw.testkit;

import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.Failover;
import dev.llmgw.core.config.Resilience;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.Limits;
import dev.llmgw.core.config.ListenerSpec;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.config.Timeouts;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Configs built in code for tests: one backend, a few aliases, short timeouts. */
public final class TestConfigs {
  public static final String PROVIDER_KEY = "sk-test-PROVIDER-SENTINEL-0123456789";

  private TestConfigs() {}

  public static Timeouts fastTimeouts() {
    return new Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(10));
  }

  /**
   * A config with one backend "mock" at {@code baseUrl} serving {@code backend-model} and
   * {@code text-embedding}, and aliases {@code gw-model} (rewritten to {@code backend-model}),
   * {@code backend-model} (same name) and {@code embed}.
   */
  public static GatewayConfig oneBackend(String baseUrl, Timeouts timeouts, Limits limits) {
    BackendSpec mock = new BackendSpec("mock", URI.create(baseUrl), "MOCK_KEY", PROVIDER_KEY, true, null,
        List.of("backend-model", "text-embedding"), timeouts, 16, Resilience.defaults());
    BackendSpec off = new BackendSpec("off", URI.create("http://127.0.0.1:9/v1"), "OFF_KEY", null, false,
        "OFF_KEY is not set", List.of("off-model"), timeouts, 16, Resilience.defaults());
    Map<String, BackendSpec> backends = new LinkedHashMap<>();
    backends.put("mock", mock);
    backends.put("off", off);
    Map<String, ModelAlias> models = new LinkedHashMap<>();
    models.put("gw-model", new ModelAlias("gw-model", "mock", "backend-model", "mock", 0));
    models.put("backend-model", new ModelAlias("backend-model", "mock", "backend-model", "mock", 0));
    models.put("embed", new ModelAlias("embed", "mock", "text-embedding", "mock", 0));
    models.put("off-model", new ModelAlias("off-model", "off", "off-model", "off", 0));
    return new GatewayConfig(null, new ListenerSpec("127.0.0.1", 0), limits, backends, models, Failover.defaults());
  }

  /**
   * Two backends for failover tests: "remote" at {@code remoteUrl} (provider key set) and "local" at
   * {@code localUrl}. Aliases: {@code smart} → remote {@code remote-model} (context 8000, falls back to
   * {@code local}), {@code big} → remote {@code big-model} (context 128000), {@code local} → local
   * {@code local-model} (context 2048), {@code huge} → local {@code huge-model} (context 200000), and
   * {@code small-first} → local-model with fallbacks [big, smart] (for context-window fallback).
   */
  public static GatewayConfig failover(String remoteUrl, String localUrl, Resilience remote, Timeouts remoteTimeouts,
      Failover failover) {
    BackendSpec r = new BackendSpec("remote", URI.create(remoteUrl), "REMOTE_KEY", PROVIDER_KEY, true, null,
        List.of("remote-model", "big-model"), remoteTimeouts, 16, remote);
    BackendSpec l = new BackendSpec("local", URI.create(localUrl), null, null, true, null,
        List.of("local-model", "huge-model"), new Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(30),
            Duration.ofSeconds(30), Duration.ofSeconds(60)), 16, Resilience.defaults());
    Map<String, BackendSpec> backends = new LinkedHashMap<>();
    backends.put("remote", r);
    backends.put("local", l);
    Map<String, ModelAlias> models = new LinkedHashMap<>();
    models.put("smart", new ModelAlias("smart", "remote", "remote-model", "remote", 8000, List.of("local")));
    models.put("big", new ModelAlias("big", "remote", "big-model", "remote", 128000, List.of()));
    models.put("local", new ModelAlias("local", "local", "local-model", "local", 2048, List.of()));
    models.put("huge", new ModelAlias("huge", "local", "huge-model", "local", 200000, List.of()));
    models.put("small-first", new ModelAlias("small-first", "local", "local-model", "local", 2048,
        List.of("smart", "big", "huge")));
    return new GatewayConfig(null, new ListenerSpec("127.0.0.1", 0), Limits.defaults(), backends, models, failover);
  }

  public static GatewayConfig oneBackend(String baseUrl) {
    return oneBackend(baseUrl, fastTimeouts(), Limits.defaults());
  }
}
