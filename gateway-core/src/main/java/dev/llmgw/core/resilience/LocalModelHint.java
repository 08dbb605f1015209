package dev.llmgw.core.resilience;

import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.GatewayConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells whoever runs the gateway without a model how to give it one, in one sentence.
 *
 * <p>The shipped config reads the address of its local model from the environment: {@value #URL_ENV}
 * for a model server (llama.cpp, Ollama, vLLM) and {@value #PATH_ENV} for a GGUF file run in-process. A
 * backend whose address comes from one of them ({@link BackendSpec#addressEnv()}) is a <em>local model
 * backend</em> here. While none of them can answer, the gateway says how to point it at a model:
 *
 * <ul>
 *   <li>at start, once the first health check of each local model server has failed and no in-process
 *       model is loaded ({@link #announce});
 *   <li>in the message of every {@code backend_unavailable} error of a request whose candidates include a
 *       local model backend that this request could not reach (refused connection, failing health check,
 *       open breaker), while no other local model backend is up ({@link #forUnavailable}). Every such error,
 *       not only the first: the clients that see it (curl, an SDK, a colleague's script) are often not the
 *       one that saw the first, and the sentence goes away by itself once a local model is up.
 * </ul>
 *
 * <p>A config that writes its addresses out has no local model backend and never gets the sentence. The
 * sentence names only the variables the config reads and carries no address, key or path: the client
 * side sees it too.
 */
public final class LocalModelHint {
  private static final Logger LOG = LoggerFactory.getLogger(LocalModelHint.class);

  /** The variable of the shipped config's local model server (its base URL). */
  public static final String URL_ENV = "LOCAL_MODEL_URL";
  /** The variable of the shipped config's in-process model (a GGUF file). */
  public static final String PATH_ENV = "LOCAL_MODEL_PATH";
  /** Says nothing (tests and tools without a live config). */
  public static final LocalModelHint NONE = new LocalModelHint(null, () -> null);

  private static final CompletableFuture<String> NOTHING = CompletableFuture.completedFuture(null);

  private final BackendGuards guards;
  private final Supplier<GatewayConfig> config;

  /**
   * @param guards whether a backend is healthy (its health check, or for an in-process backend its loaded model)
   * @param config the config requests use now
   */
  public LocalModelHint(BackendGuards guards, Supplier<GatewayConfig> config) {
    this.guards = guards;
    this.config = config;
  }

  /** Whether a backend's address comes from {@value #URL_ENV} or {@value #PATH_ENV}. */
  public static boolean isLocalModel(BackendSpec b) {
    return URL_ENV.equals(b.addressEnv()) || PATH_ENV.equals(b.addressEnv());
  }

  /** The sentence for a config: it names the variables the config reads; null when it reads neither. */
  public static String sentence(GatewayConfig c) {
    boolean url = false;
    boolean path = false;
    for (BackendSpec b : c.backends().values()) {
      url |= URL_ENV.equals(b.addressEnv());
      path |= PATH_ENV.equals(b.addressEnv());
    }
    if (!url && !path) {
      return null;
    }
    StringBuilder s = new StringBuilder("To point the gateway at a model, set ");
    if (url) {
      s.append(URL_ENV).append(" to a model server's base URL (llama.cpp, Ollama or vLLM, e.g. http://127.0.0.1:11434/v1)");
    }
    if (url && path) {
      s.append(" or ");
    }
    if (path) {
      s.append(PATH_ENV).append(" to a GGUF file to run it inside the gateway");
    }
    return s.append(", and restart it.").toString();
  }

  /** Enabled, healthy (a passing health check, or a loaded model) and its breaker not open. */
  private boolean up(BackendSpec b) {
    if (!b.enabled()) {
      return false;
    }
    BackendGuard g = guards.guard(b);
    return g.isHealthy() && !g.breakerOpen();
  }

  /**
   * The sentence for a request that failed with {@code backend_unavailable}, or null.
   *
   * @param candidates  the backends the request could go to (its candidates and last resort)
   * @param unreachable whether this request found a backend (by name) unreachable: its connection refused
   *                    or timed out, or skipped for a failing health check or an open breaker
   */
  public String forUnavailable(Collection<BackendSpec> candidates, Predicate<String> unreachable) {
    GatewayConfig c = config.get();
    if (c == null) {
      return null;
    }
    boolean local = false;
    for (BackendSpec b : candidates) {
      if (isLocalModel(b)) {
        if (!unreachable.test(b.name())) {
          return null; // failed for another reason (busy, rate limit): not a missing model
        }
        local = true;
      }
    }
    if (!local) {
      return null;
    }
    for (BackendSpec b : c.backends().values()) {
      if (isLocalModel(b) && !candidates.contains(b) && up(b)) {
        return null;
      }
    }
    return sentence(c);
  }

  /**
   * At start: when no local model backend can answer, logs why, with the sentence. In-process models
   * are loaded by then; a local model server's first health check is awaited (off the caller's
   * thread), and a server without a health check counts as up (nothing can be said of it).
   *
   * @param firstCheck a backend's first health check: null when it answered, else what went wrong
   * @param failure    why an in-process backend's model did not load, or null
   * @return the line logged, or null when none was needed
   */
  public CompletableFuture<String> announce(GatewayConfig c, Function<String, CompletableFuture<String>> firstCheck,
      Function<String, String> failure) {
    String sentence = sentence(c);
    if (sentence == null) {
      return NOTHING;
    }
    List<String> down = new ArrayList<>();
    Map<BackendSpec, CompletableFuture<String>> checks = new java.util.LinkedHashMap<>();
    for (BackendSpec b : c.backends().values()) {
      if (!isLocalModel(b)) {
        continue;
      }
      if (!b.enabled()) {
        down.add(b.name() + ": " + b.disabledReason());
      } else if (b.isInProcess()) {
        if (up(b)) {
          return NOTHING;
        }
        String why = failure.apply(b.name());
        down.add(b.name() + ": " + (why == null ? "model not loaded" : why));
      } else {
        CompletableFuture<String> check = firstCheck.apply(b.name());
        if (check == null) {
          return NOTHING;
        }
        checks.put(b, check);
      }
    }
    return CompletableFuture.allOf(checks.values().toArray(CompletableFuture[]::new)).thenApply(x -> {
      List<String> why = new ArrayList<>();
      for (Map.Entry<BackendSpec, CompletableFuture<String>> e : checks.entrySet()) {
        String what = e.getValue().join();
        if (what == null) {
          return null; // a local model server answered
        }
        why.add(e.getKey().name() + ": no model server answers at " + e.getKey().baseUrl() + " (" + what + ")");
      }
      why.addAll(down);
      String line = "no local model is up (" + String.join("; ", why) + "). " + sentence;
      LOG.warn(line);
      return line;
    });
  }
}
