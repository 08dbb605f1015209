package dev.llmgw.core.resilience;

import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.Resilience;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active health checks: {@code GET baseUrl + health.path} every interval for each enabled backend
 * that configures one. After {@code unhealthyAfter} consecutive failures the backend's guard is
 * marked down (requests skip it, {@code /readyz} says so); after {@code healthyAfter} successes it is
 * up again. A check that passes (as many in a row as {@code healthyAfter}) and had started while the
 * backend's circuit breaker was open moves the breaker to half-open: recovery after an outage then takes
 * one health interval, not the breaker's whole {@code openFor}. Runs on its own daemon thread with the JDK HTTP client (asynchronous, no redirects),
 * never on an event loop. The provider key is sent as the backend expects and never logged.
 */
public final class HealthChecker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HealthChecker.class);

  private final BackendGuards guards;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "gateway-health");
    t.setDaemon(true);
    return t;
  });
  private final HttpClient http = HttpClient.newBuilder()
      .followRedirects(HttpClient.Redirect.NEVER)
      .executor(timer)
      .build();
  private final List<ScheduledFuture<?>> tasks = new ArrayList<>();
  /** The first check of each backend checked now: null once it answered, else what went wrong. */
  private final java.util.Map<String, CompletableFuture<String>> firstChecks = new ConcurrentHashMap<>();

  public HealthChecker(BackendGuards guards) {
    this.guards = guards;
  }

  /** (Re)starts the checks for a config; backends without a check are marked healthy. */
  public synchronized void apply(GatewayConfig config) {
    tasks.forEach(t -> t.cancel(false));
    tasks.clear();
    firstChecks.clear();
    for (BackendSpec b : config.backends().values()) {
      if (b.isInProcess()) {
        continue; // its model's loader says whether it can serve (InProcessBackends)
      }
      BackendGuard guard = guards.guard(b);
      Resilience.HealthCheck hc = b.resilience().health();
      if (!b.enabled() || hc == null) {
        guard.healthy(true);
        continue;
      }
      Probe probe = new Probe(b, hc, guard);
      firstChecks.put(b.name(), probe.first);
      tasks.add(timer.scheduleWithFixedDelay(probe::run, 0, hc.interval().toMillis(), TimeUnit.MILLISECONDS));
    }
  }

  private final class Probe {
    private final BackendSpec backend;
    private final Resilience.HealthCheck hc;
    private final BackendGuard guard;
    private final HttpRequest request;
    private final CompletableFuture<String> first = new CompletableFuture<>();
    private int failures;
    private int successes;
    private boolean inFlight;

    Probe(BackendSpec backend, Resilience.HealthCheck hc, BackendGuard guard) {
      this.backend = backend;
      this.hc = hc;
      this.guard = guard;
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(backend.baseUrl().toString()
              .replaceAll("/+$", "") + hc.path()))
          .timeout(hc.timeout()).GET().header("User-Agent", "llm-gateway-health/0.1");
      backend.providerKey().ifPresent(k -> b.header("Authorization", "Bearer " + k));
      this.request = b.build();
    }

    void run() {
      if (inFlight) {
        return;
      }
      inFlight = true;
      boolean openWhenSent = guard.breakerOpen();
      http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenCompleteAsync((r, err) -> {
        inFlight = false;
        boolean ok = err == null && r.statusCode() >= 200 && r.statusCode() < 300;
        // the client's failure comes wrapped (CompletionException): name the cause (ConnectException, ...)
        Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
            ? err.getCause() : err;
        record(ok, cause != null ? cause.getClass().getSimpleName() : "HTTP " + r.statusCode(), openWhenSent);
      }, timer);
    }

    private void record(boolean ok, String what, boolean openWhenSent) {
      first.complete(ok ? null : what);
      if (ok) {
        failures = 0;
        if (++successes >= hc.healthyAfter()) {
          if (!guard.isHealthy()) {
            guard.healthy(true);
            LOG.info("backend {} is healthy again", backend.name());
          }
          if (guard.healthCheckPassed(openWhenSent)) {
            LOG.info("backend {} passed its health check: circuit breaker half-open, the next requests probe it",
                backend.name());
          }
        }
      } else {
        successes = 0;
        if (++failures >= hc.unhealthyAfter() && guard.isHealthy()) {
          guard.healthy(false);
          LOG.warn("backend {} failed {} health checks in a row ({}): requests skip it", backend.name(), failures,
              what);
        }
      }
    }
  }

  /**
   * The outcome of the first health check of a backend checked under the config applied last: completes
   * with null when the backend answered, or with what went wrong (an exception's name, {@code HTTP 404});
   * null when the backend has no check.
   */
  public CompletableFuture<String> firstCheck(String backend) {
    return firstChecks.get(backend);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
