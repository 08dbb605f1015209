package dev.llmgw.server;

import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.SnapshotLoader;
import dev.llmgw.core.config.ConfigException;
import dev.llmgw.core.config.TracingSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hot reload: parse, validate and compile the config directory on its own thread, then publish the
 * new snapshot atomically ({@link GatewayServer#apply}); a broken file is refused with every problem
 * (file, line, path, reason), counted ({@code gateway_config_reloads_total{result="refused"}}) and
 * logged, and the last good config keeps serving.
 *
 * <p>Triggers: {@code POST /admin/reload}, and file changes (gateway.yaml, routing.yaml, keys.yaml
 * and the semantic classifier's example files) — the files' modification times are
 * polled every second and a change is reloaded once it has been quiet for the debounce period (so an
 * editor's save-in-several-writes is one reload).
 */
public final class ConfigReloader implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);
  private static final List<String> WATCHED = List.of(SnapshotLoader.GATEWAY_FILE, SnapshotLoader.ROUTING_FILE,
      "keys.yaml");

  /** What one reload did. */
  public record Result(boolean applied, long version, List<String> problems) {}

  private final Path dir;
  private final Supplier<Map<String, String>> env;
  private final GatewayServer server;
  private final Counter ok;
  private final Counter refused;
  private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "gateway-reload");
    t.setDaemon(true);
    return t;
  });
  private Map<String, FileTime> seen;
  private long changedAtMillis = -1;

  public ConfigReloader(Path dir, Supplier<Map<String, String>> env, GatewayServer server, MeterRegistry registry) {
    this.dir = dir;
    this.env = env;
    this.server = server;
    this.ok = Counter.builder("gateway.config.reloads").description("Config reloads by result")
        .tag("result", "ok").register(registry);
    this.refused = Counter.builder("gateway.config.reloads").description("Config reloads by result")
        .tag("result", "refused").register(registry);
    this.seen = stamps();
  }

  /** Starts watching the files (poll every second, reload after {@code debounceMillis} of quiet). */
  public ConfigReloader watch(long debounceMillis) {
    worker.scheduleWithFixedDelay(() -> poll(debounceMillis), 1, 1, TimeUnit.SECONDS);
    return this;
  }

  /** Reloads now, off the caller's thread. */
  public CompletableFuture<Result> reload(String trigger) {
    return CompletableFuture.supplyAsync(() -> reloadNow(trigger), worker);
  }

  private Result reloadNow(String trigger) {
    long version = server.snapshot().version() + 1;
    try {
      GatewaySnapshot next = SnapshotLoader.load(dir, env.get(), version);
      if (!next.config().state().equals(server.snapshot().config().state())) {
        LOG.warn("config reload ({}): the state section changed ({} -> {}); the store is read at start only, the"
            + " change takes effect at the next restart", trigger, server.snapshot().config().state(),
            next.config().state());
      }
      TracingSettings was = server.snapshot().config().tracing();
      TracingSettings now = next.config().tracing();
      if (!now.equals(was)) { // endpoint and headers may carry credentials: named, never printed
        LOG.warn("config reload ({}): the tracing section changed (enabled {} -> {}, sample ratio {} -> {}{}); the"
            + " tracer is set up at start only, the change takes effect at the next restart", trigger, was.enabled(),
            now.enabled(), was.sampleRatio(), now.sampleRatio(),
            now.endpoint().equals(was.endpoint()) && now.headers().equals(was.headers()) ? "" : ", endpoint or headers");
      }
      server.apply(next);
      ok.increment();
      LOG.info("config reloaded ({}): version {} from {}", trigger, version, dir);
      return new Result(true, version, List.of());
    } catch (ConfigException e) {
      refused.increment();
      List<String> problems = e.errors().stream().map(Object::toString).toList();
      LOG.error("config reload ({}) refused; still serving version {}:\n{}", trigger, server.snapshot().version(),
          String.join("\n", problems));
      return new Result(false, server.snapshot().version(), problems);
    } catch (RuntimeException e) {
      refused.increment();
      LOG.error("config reload ({}) failed; still serving version {}", trigger, server.snapshot().version(), e);
      return new Result(false, server.snapshot().version(), List.of("internal error: " + e));
    }
  }

  private void poll(long debounceMillis) {
    try {
      Map<String, FileTime> now = stamps();
      if (!Objects.equals(now, seen)) {
        seen = now;
        changedAtMillis = System.currentTimeMillis();
        return;
      }
      if (changedAtMillis >= 0 && System.currentTimeMillis() - changedAtMillis >= debounceMillis) {
        changedAtMillis = -1;
        reloadNow("file change");
      }
    } catch (RuntimeException e) {
      LOG.warn("config watch failed", e);
    }
  }

  private Map<String, FileTime> stamps() {
    Map<String, FileTime> out = new java.util.TreeMap<>();
    for (String f : WATCHED) {
      Path p = dir.resolve(f);
      try {
        if (Files.exists(p)) {
          out.put(f, Files.getLastModifiedTime(p));
        }
      } catch (IOException e) {
        out.put(f, FileTime.fromMillis(-1));
      }
    }
    // the semantic classifier's example files, as the policy serving now names them
    var policy = server.snapshot().policy();
    if (policy != null && policy.classifier().semantic() != null) {
      for (Path p : policy.classifier().semantic().files()) {
        try {
          out.put(p.toString(), Files.exists(p) ? Files.getLastModifiedTime(p) : FileTime.fromMillis(-2));
        } catch (IOException e) {
          out.put(p.toString(), FileTime.fromMillis(-1));
        }
      }
    }
    return out;
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
