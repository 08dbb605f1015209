package dev.llmgw.core;

import dev.llmgw.core.config.ConfigException;
import dev.llmgw.core.config.ConfigLoader;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.RoutingLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Loads a config directory — {@code gateway.yaml} and, when present, {@code routing.yaml} — into a
 * {@link GatewaySnapshot}: parse, validate, compile; nothing is published here. Used at start, by
 * {@code validate}/{@code explain}, and by every reload (off the event loops).
 */
public final class SnapshotLoader {
  public static final String GATEWAY_FILE = "gateway.yaml";
  public static final String ROUTING_FILE = "routing.yaml";

  private SnapshotLoader() {}

  public static GatewaySnapshot load(Path dir, Map<String, String> env, long version) throws ConfigException {
    GatewayConfig config = ConfigLoader.load(dir.resolve(GATEWAY_FILE), env);
    Path routing = dir.resolve(ROUTING_FILE);
    if (!Files.exists(routing)) {
      return GatewaySnapshot.of(config, null, version);
    }
    RoutingLoader.Loaded loaded = RoutingLoader.loadAll(routing, config);
    return GatewaySnapshot.of(config, loaded.policy(), loaded.tierTimeouts(), loaded.classifier(), version);
  }
}
