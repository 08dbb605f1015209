package dev.llmgw.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.SnapshotLoader;
import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.ConfigException;
import dev.llmgw.core.error.GatewayException;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.route.Caller;
import dev.llmgw.core.route.ModelRouter;
import dev.llmgw.core.route.Route;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.routing.TraceStep;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Command line:
 *
 * <pre>
 *   gateway-server.jar [run] [CONFIG_DIR]            start the gateway (CONFIG_DIR defaults to ./config)
 *   gateway-server.jar validate CONFIG_DIR           check gateway.yaml and routing.yaml; exit 1 listing
 *                                                    every problem (for operators' CI, like nginx -t)
 *   gateway-server.jar explain CONFIG_DIR REQ.json   print the routing decision and its trace; calls no
 *                                                    backend ({"headers": {...}} in the file count as headers)
 *   gateway-server.jar eval CONFIG_DIR LABELLED.jsonl [--min-recall R] [--max-below S] [--max-false-alarms F]
 *                                                    route labelled requests; confusion matrix, recall, saving
 * </pre>
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) throws Exception {
    String command = args.length > 0 ? args[0] : "run";
    switch (command) {
      case "validate" -> System.exit(validate(configDir(args, 1), System.out, System.err));
      case "explain" -> {
        if (args.length < 3) {
          usage(System.err);
          System.exit(2);
        }
        String key = args.length >= 5 && args[3].equals("--key") ? args[4] : null;
        System.exit(explain(Path.of(args[1]), Path.of(args[2]), key, System.out, System.err));
      }
      case "eval" -> System.exit(EvalCommand.run(args, System.out, System.err));
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
    out.println("usage: gateway-server.jar [run] [CONFIG_DIR]            start the gateway (default CONFIG_DIR: config)");
    out.println("       gateway-server.jar validate CONFIG_DIR           check the config, exit 1 listing every problem");
    out.println("       gateway-server.jar explain CONFIG_DIR REQ.json [--key NAME]   show the routing decision for a"
        + " request (as a gateway key: its tiers, models, forcing)");
    out.println("       gateway-server.jar eval CONFIG_DIR LABELLED.jsonl [--min-recall R] [--max-below S] "
        + "[--max-false-alarms F]");
    out.println("                                                        route labelled requests and score the policy");
  }

  /** Validates a config directory; returns the process exit code. */
  static int validate(Path dir, PrintStream out, PrintStream err) {
    try {
      GatewaySnapshot s = SnapshotLoader.load(dir, System.getenv(), 1);
      // a model file that cannot be used leaves its backend disabled at run time; for CI it is a problem
      java.util.List<String> models = s.config().backends().values().stream()
          .filter(b -> b.isInProcess() && b.inprocess().problem() != null)
          .map(b -> b.inprocess().where() + ": backends." + b.name() + ".model: " + b.inprocess().problem())
          .toList();
      if (!models.isEmpty()) {
        models.forEach(err::println);
        return 1;
      }
      out.println(dir.resolve(SnapshotLoader.GATEWAY_FILE) + ": OK (" + s.config().backends().size() + " backends, "
          + s.config().models().size() + " models)");
      if (s.policy() != null) {
        out.println(dir.resolve(SnapshotLoader.ROUTING_FILE) + ": OK (" + s.policy().tiers().size() + " tiers, "
            + s.policy().rules().size() + " rules, default " + s.policy().defaultTier() + ")");
      }
      return 0;
    } catch (ConfigException e) {
      err.println(e.getMessage());
      return 1;
    }
  }

  /** The config directory's snapshot, or {@code null} after printing every problem to {@code err}. */
  static GatewaySnapshot loadOrReport(Path dir, PrintStream err) {
    try {
      return SnapshotLoader.load(dir, System.getenv(), 1);
    } catch (ConfigException e) {
      err.println(e.getMessage());
      return null;
    }
  }

  /** Prints the routing decision for a request file; returns the process exit code. */
  static int explain(Path dir, Path requestFile, PrintStream out, PrintStream err) {
    return explain(dir, requestFile, null, out, err);
  }

  /**
   * @param keyName explain as this gateway key (its tiers, models and forcing; a CLI has no live spend,
   *                so a soft-budget downgrade shows only in {@code POST /admin/explain?key=}), or null
   */
  static int explain(Path dir, Path requestFile, String keyName, PrintStream out, PrintStream err) {
    GatewaySnapshot s = loadOrReport(dir, err);
    if (s == null) {
      return 1;
    }
    Caller caller = Caller.ANONYMOUS;
    if (keyName != null) {
      try (dev.llmgw.core.state.MemoryStore none = new dev.llmgw.core.state.MemoryStore(s.config().economics(),
          java.time.Clock.systemUTC())) {
        caller = new dev.llmgw.core.access.AccessControl(none).callerNamed(keyName, s.config().access());
      } catch (dev.llmgw.core.error.GatewayException e) {
        err.println(e.error().message());
        return 2;
      }
      out.println("as key: " + keyName);
    }
    try {
      JsonNode root = RequestParser.JSON.readTree(Files.readAllBytes(requestFile));
      Map<String, String> headers = new HashMap<>();
      JsonNode body = root;
      if (root != null && root.has("headers") && root.has("body")) { // {"headers":{...},"body":{...}}
        root.get("headers").fields().forEachRemaining(e -> headers.put(e.getKey().toLowerCase(Locale.ROOT),
            e.getValue().asText()));
        body = root.get("body");
      }
      Endpoint endpoint = body != null && body.has("prompt") && !body.has("messages")
          ? Endpoint.COMPLETIONS : Endpoint.CHAT_COMPLETIONS;
      ParsedRequest parsed = RequestParser.parse(endpoint,
          new ByteArrayInputStream(RequestParser.JSON.writeValueAsBytes(body)));
      ModelRouter.Explanation e;
      try (dev.llmgw.core.route.TierClassifier classifier = new dev.llmgw.core.route.TierClassifier()) {
        classifier.configure(s.router().classifierSettings());
        e = s.router().explain(parsed, name -> headers.get(name.toLowerCase(Locale.ROOT)), caller,
            s.policy() == null ? null : f -> classifier.judgeBlocking(s.policy(), f, s.config()));
      }
      for (TraceStep step : e.trace()) {
        out.println((step.matched() ? "  ✔ " : "  ✘ ") + step.rule() + ": " + step.detail());
      }
      if (e.plan() == null) {
        out.println("refused: " + e.refusal().status() + " " + e.refusal().code() + ": " + e.refusal().message());
        return 0;
      }
      out.println("tier: " + (e.plan().tier() == null ? "(none: model named directly)" : e.plan().tier()));
      out.println("rule: " + (e.plan().rule() == null ? "-" : e.plan().rule()));
      StringBuilder c = new StringBuilder();
      for (Route r : e.plan().candidates()) {
        c.append(c.length() == 0 ? "" : " -> ").append(r.alias().alias()).append(" (").append(r.backend().name())
            .append('/').append(r.backendModel()).append(')');
      }
      out.println("candidates: " + c);
      if (e.plan().lastResort() != null) {
        Route r = e.plan().lastResort();
        out.println("last resort: " + r.alias().alias() + " (" + r.backend().name() + '/' + r.backendModel()
            + "), when every candidate failed");
      }
      return 0;
    } catch (IOException | GatewayException e) {
      err.println(requestFile + ": " + (e instanceof GatewayException g ? g.error().message() : e.getMessage()));
      return 1;
    }
  }

  /**
   * Routes java.util.logging (OpenTelemetry's exporter, ONNX Runtime, Caffeine) to SLF4J, so that its lines
   * come out through logback in the gateway's format instead of on stderr in JUL's.
   */
  static void routeJavaUtilLogging() {
    if (!org.slf4j.bridge.SLF4JBridgeHandler.isInstalled()) {
      org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
      org.slf4j.bridge.SLF4JBridgeHandler.install();
    }
  }

  private static void run(Path dir) throws InterruptedException {
    routeJavaUtilLogging();
    if (System.getProperty("io.netty.leakDetection.level") == null) {
      // production default: leak tracking records a stack trace per sampled buffer (a measurable cost,
      // docs/benchmarks.md); the test suite runs with paranoid detection instead
      io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
    }
    GatewaySnapshot snapshot;
    try {
      snapshot = SnapshotLoader.load(dir, System.getenv(), 1);
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      System.exit(1);
      return;
    }
    for (BackendSpec b : snapshot.config().backends().values()) {
      if (b.isInProcess() && b.inprocess().problem() != null) {
        continue; // said when the gateway starts (InProcessBackends), with the file and line
      } else if (b.isInProcess() && b.enabled()) {
        LOG.info("backend {}: in-process model {} (models {})", b.name(), b.inprocess().model(), b.models());
      } else if (b.enabled()) {
        LOG.info("backend {}: enabled at {} (models {}, provider key {})", b.name(), b.baseUrl(), b.models(),
            b.providerKey().isPresent() ? "from " + b.apiKeyEnv() : "none");
      } else {
        LOG.info("backend {}: disabled ({})", b.name(), b.disabledReason());
      }
    }
    if (snapshot.policy() != null) {
      LOG.info("routing: {} tiers, {} rules, default tier {}", snapshot.policy().tiers().size(),
          snapshot.policy().rules().size(), snapshot.policy().defaultTier());
      var classifier = snapshot.policy().classifier();
      if (classifier.semantic() != null) {
        var second = classifier.semantic().second();
        LOG.info("routing: semantic classifier {} with {} examples per tier {} (k {}){}{}",
            classifier.semantic().embedder().id(), java.util.Arrays.toString(classifier.semantic().counts()),
            snapshot.policy().tiers(), classifier.semantic().k(),
            second == null ? "" : "; second opinion " + second.id() + " within "
                + classifier.semantic().band() + " of a threshold",
            classifier.judgeModel() == null ? "" : "; judge " + classifier.judgeModel());
      }
    } else {
      LOG.info("routing: no {} — requests name their model directly", SnapshotLoader.ROUTING_FILE);
    }
    if (snapshot.config().access().open()) {
      LOG.warn("auth: OPEN gateway — no key is needed (auth.open: true in {}); set keys before exposing it",
          SnapshotLoader.GATEWAY_FILE);
    } else {
      LOG.info("auth: {} gateway keys; admin endpoints {}", snapshot.config().access().keys().size(),
          snapshot.config().access().adminTokenSha256() == null ? "disabled (no admin token)" : "need the admin token");
    }
    GatewayServer server = new GatewayServer(snapshot, Transport.best(), 0, dev.llmgw.core.log.RequestLogListener.NOOP)
        .reloadFrom(dir, System::getenv, 500)
        .start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("shutting down: draining in-flight requests");
      server.stop(Duration.ofSeconds(10));
      stopped.countDown();
    }, "gateway-shutdown"));
    stopped.await();
  }
}
