package dev.llmgw.core.upstream.inprocess;

import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.InProcessSpec;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.local.LocalAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-process backends of the running config: one {@link InferenceServer} per enabled backend of
 * {@code type: inprocess}, loaded at start and by a reload that adds one or changes its model
 * settings ({@link InProcessSpec#engineKey()}); other changes (timeouts, resilience) keep the loaded
 * model. A replaced or removed model stops taking connections at once and is unloaded when its last
 * request ends (or after {@link #DRAIN}).
 *
 * <p>A model that fails to load leaves its backend down (its guard unhealthy, the reason logged
 * with the file's name); the gateway keeps serving its other backends. Connections to it are
 * refused (an address nothing listens on), which the request path treats as any refused connection.
 */
public final class InProcessBackends implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(InProcessBackends.class);
  /** How long a replaced model may finish its requests before it is unloaded anyway. */
  static final Duration DRAIN = Duration.ofSeconds(120);

  /** Loads a model (the real one: {@link LlamaEngine#load}). */
  public interface Loader {
    InferenceEngine load(InProcessSpec spec) throws LlamaEngine.LoadException;
  }

  private final EventLoopGroup group;
  private final Loader loader;
  private final Map<String, InferenceServer> servers = new ConcurrentHashMap<>();
  /** Why a backend's model is not loaded, by backend name (for /readyz and logs). */
  private final Map<String, String> failures = new ConcurrentHashMap<>();
  /** Makes every in-VM address unique in the process (tests run several gateways in one JVM). */
  private static final AtomicLong GENERATION = new AtomicLong();

  public InProcessBackends(EventLoopGroup group, Loader loader) {
    this.group = group;
    this.loader = loader;
  }

  /**
   * Brings the loaded models in line with a config: loads what is new or changed, unloads what is
   * gone, and tells {@code health} for each in-process backend whether it can serve. Blocks while
   * models load: call it at start or on the reload thread, never on an event loop.
   */
  public synchronized void apply(Collection<BackendSpec> backends, BiConsumer<BackendSpec, Boolean> health) {
    Map<String, BackendSpec> wanted = new HashMap<>();
    for (BackendSpec b : backends) {
      if (b.isInProcess() && b.enabled()) {
        wanted.put(b.name(), b);
      } else if (b.isInProcess() && b.inprocess().problem() != null) {
        LOG.error("{}: backends.{}.model: {} — backend {} is disabled; the other backends keep serving",
            b.inprocess().where(), b.name(), b.inprocess().problem(), b.name());
      }
    }
    List<InferenceServer> retired = new ArrayList<>();
    servers.entrySet().removeIf(e -> {
      BackendSpec b = wanted.get(e.getKey());
      boolean keep = b != null && b.inprocess().engineKey().equals(e.getValue().spec().engineKey());
      if (!keep) {
        retired.add(e.getValue());
      }
      return !keep;
    });
    failures.keySet().retainAll(wanted.keySet());
    for (BackendSpec b : wanted.values()) {
      if (servers.containsKey(b.name())) {
        health.accept(b, true);
        continue;
      }
      InProcessSpec s = b.inprocess();
      long started = System.nanoTime();
      try {
        InferenceEngine engine = loader.load(s);
        LocalAddress address = new LocalAddress("llmgw-inprocess-" + b.name() + "-" + GENERATION.incrementAndGet());
        InferenceServer server;
        try {
          server = InferenceServer.start(b.name(), s, engine, address, group);
        } catch (InterruptedException | RuntimeException e) {
          engine.close();
          if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
          }
          throw new LlamaEngine.LoadException("model file " + s.model() + ": cannot serve it (" + e + ")", e);
        }
        servers.put(b.name(), server);
        failures.remove(b.name());
        health.accept(b, true);
        LOG.info("backend {}: in-process model {} loaded in {} ms ({} sequences x {} tokens of context, queue {},"
                + " {} threads; {})", b.name(), s.model(), (System.nanoTime() - started) / 1_000_000,
            s.maxSequences(), s.contextSize(), s.queue(), s.threads(), engine.description());
      } catch (LlamaEngine.LoadException e) {
        failures.put(b.name(), e.getMessage());
        health.accept(b, false);
        LOG.error("{}: backends.{}.model: {} — backend {} is down; the other backends keep serving",
            s.where() == null ? "gateway.yaml" : s.where(), b.name(), e.getMessage(), b.name());
      }
    }
    for (InferenceServer old : retired) {
      unloadLater(old);
    }
  }

  private void unloadLater(InferenceServer old) {
    Thread t = new Thread(() -> old.close(DRAIN), "inprocess-unload-" + old.backend());
    t.setDaemon(true);
    t.start();
  }

  /**
   * Where the pools of {@code backend} connect: its server's address, or one nothing listens on
   * (the connection is refused) when its model is not loaded with these settings.
   */
  public SocketAddress address(BackendSpec backend) {
    InferenceServer s = servers.get(backend.name());
    if (s != null && backend.isInProcess() && s.spec().engineKey().equals(backend.inprocess().engineKey())) {
      return s.address();
    }
    return new LocalAddress("llmgw-inprocess-" + backend.name() + "-not-loaded");
  }

  /** The server of a backend, when its model is loaded. */
  public Optional<InferenceServer> server(String backend) {
    return Optional.ofNullable(servers.get(backend));
  }

  /** Why a backend's model is not loaded, when it failed to load. */
  public Optional<String> failure(String backend) {
    return Optional.ofNullable(failures.get(backend));
  }

  /** Unloads every model: stops accepting, lets requests end within {@code grace}, then frees the models. */
  public synchronized void close(Duration grace) {
    List<InferenceServer> all = new ArrayList<>(servers.values());
    servers.clear();
    for (InferenceServer s : all) {
      s.close(grace);
    }
  }

  @Override
  public void close() {
    close(Duration.ZERO);
  }
}
