package dev.llmgw.server;

import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.ConfigException;
import dev.llmgw.core.config.ConfigLoader;
import dev.llmgw.core.config.GatewayConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Command line:
 *
 * <pre>
 *   gateway-server.jar [run] [CONFIG_DIR]     start the gateway (CONFIG_DIR defaults to ./config)
 *   gateway-server.jar validate CONFIG_DIR    check the config; exit 1 with every problem listed
 * </pre>
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  static final String GATEWAY_FILE = "gateway.yaml";

  private Main() {}

  public static void main(String[] args) throws Exception {
    String command = args.length > 0 ? args[0] : "run";
    switch (command) {
      case "validate" -> System.exit(validate(configDir(args, 1), System.out, System.err));
      case "run" -> run(configDir(args, 1));
      case "-h", "--help", "help" -> usage(System.out);
      default -> {
        if (args.length == 1 && Files.isDirectory(Path.of(args[0]))) {
          run(Path.of(args[0]));
        } else {
          usage(System.err);
          System.exit(2);
        }
      }
    }
  }

  private static Path configDir(String[] args, int i) {
    return Path.of(args.length > i ? args[i] : "config");
  }

  private static void usage(PrintStream out) {
    out.println("usage: gateway-server.jar [run] [CONFIG_DIR]   start the gateway (default CONFIG_DIR: config)");
    out.println("       gateway-server.jar validate CONFIG_DIR   check the config, exit 1 listing every problem");
  }

  /** Validates a config directory; returns the process exit code. */
  static int validate(Path dir, PrintStream out, PrintStream err) {
    Path file = dir.resolve(GATEWAY_FILE);
    try {
      GatewayConfig config = ConfigLoader.load(file);
      out.println(file + ": OK (" + config.backends().size() + " backends, " + config.models().size()
          + " models)");
      return 0;
    } catch (ConfigException e) {
      err.println(e.getMessage());
      return 1;
    }
  }

  private static void run(Path dir) throws InterruptedException {
    Path file = dir.resolve(GATEWAY_FILE);
    GatewayConfig config;
    try {
      config = ConfigLoader.load(file);
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      System.exit(1);
      return;
    }
    for (BackendSpec b : config.backends().values()) {
      if (b.enabled()) {
        LOG.info("backend {}: enabled at {} (models {}, provider key {})", b.name(), b.baseUrl(), b.models(),
            b.providerKey().isPresent() ? "from " + b.apiKeyEnv() : "none");
      } else {
        LOG.info("backend {}: disabled ({})", b.name(), b.disabledReason());
      }
    }
    GatewayServer server = new GatewayServer(config).start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("shutting down: draining in-flight requests");
      server.stop(Duration.ofSeconds(10));
      stopped.countDown();
    }, "gateway-shutdown"));
    stopped.await();
  }
}
