package dev.llmgw.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;
import dev.llmgw.core.exchange.ClientResponses;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.exchange.RequestContext;
import dev.llmgw.core.log.RequestLog;
import dev.llmgw.core.log.RequestLogBuilder;
import dev.llmgw.core.resilience.BackendGuard;
import dev.llmgw.core.resilience.BackendGuards;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.UncheckedIOException;
import java.util.function.BooleanSupplier;

/**
 * Endpoints the gateway answers itself: {@code GET /v1/models}, {@code GET /v1/models/{id}},
 * {@code GET /healthz} (liveness) and {@code GET /readyz} (readiness: serving, with the backends'
 * state; 503 while draining). Nothing here exposes a provider key or its environment value.
 */
public final class LocalEndpoints {
  private static final String MODELS = "/v1/models";
  private static final String OPENMETRICS = "application/openmetrics-text";
  private final long createdEpochSeconds;
  private final BooleanSupplier draining;
  private final BackendGuards guards;
  private final java.util.function.Supplier<String> metrics;

  /**
   * @param metrics the Prometheus text exposition, or null when metrics are off. A scrape is CPU work
   *                that grows with the series (7-16 ms for 55 KB of exposition on one core of the
   *                development machine): it runs on its own thread, never on an event loop
   */
  public LocalEndpoints(long createdEpochSeconds, BooleanSupplier draining, BackendGuards guards,
      java.util.function.Supplier<String> metrics) {
    this.createdEpochSeconds = createdEpochSeconds;
    this.draining = draining;
    this.guards = guards;
    this.metrics = metrics;
  }

  /** The OpenMetrics exposition for a given Accept header (it carries exemplars), or null: text format only. */
  private java.util.function.UnaryOperator<String> openMetrics;

  /**
   * Serves {@code /metrics} as OpenMetrics to a scraper that asks for it ({@code Accept:
   * application/openmetrics-text}, as Prometheus does): the format that carries exemplars (trace ids on
   * the latency histograms). {@code scrape} gets the Accept header and returns the exposition.
   */
  public LocalEndpoints withOpenMetrics(java.util.function.UnaryOperator<String> scrape) {
    this.openMetrics = scrape;
    return this;
  }

  private dev.llmgw.core.state.StateStore state;
  private boolean stateRequired;
  private java.util.function.Function<String, java.util.Optional<String>> modelFailures = n -> java.util.Optional.empty();

  /** Shows in {@code /readyz} why an in-process backend's model did not load (by backend name). */
  public LocalEndpoints withModelFailures(java.util.function.Function<String, java.util.Optional<String>> failures) {
    this.modelFailures = failures;
    return this;
  }

  /**
   * Shows the state store in {@code /readyz}; with {@code required} (Redis, failClosed) a store that
   * cannot answer makes the gateway not ready (503), since it would refuse every keyed request.
   */
  public LocalEndpoints withState(dev.llmgw.core.state.StateStore state, boolean required) {
    this.state = state;
    this.stateRequired = required;
    return this;
  }


  /** At most this many scrapes wait behind the one running; more are answered 503. */
  public static final int SCRAPES_WAITING = 4;

  private final java.util.concurrent.ExecutorService scraper =
      BoundedWorkers.of("gateway-metrics", 1, SCRAPES_WAITING);

  /** The exposition and its content type. */
  public record Scrape(byte[] body, String contentType) {}

  /** Whether {@code path} is the metrics exposition (answered by {@link #scrape}, off the event loop). */
  public boolean isMetrics(String path) {
    return metrics != null && path.equals("/metrics");
  }

  /**
   * The exposition for a {@code GET /metrics} with this Accept header, computed on the scrape thread;
   * a failed future carries a {@link GatewayException} (wrong method, too many scrapes waiting).
   */
  public java.util.concurrent.CompletableFuture<Scrape> scrape(HttpMethod method, String path, String accept) {
    try {
      if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)) {
        throw new GatewayException(GatewayError.methodNotAllowed(method.name(), path, "GET"));
      }
      boolean om = openMetrics != null && accept != null && accept.contains(OPENMETRICS);
      return java.util.concurrent.CompletableFuture.supplyAsync(() -> new Scrape(
          (om ? openMetrics.apply(accept) : metrics.get()).getBytes(java.nio.charset.StandardCharsets.UTF_8),
          om ? OPENMETRICS + "; version=1.0.0; charset=utf-8" : "text/plain; version=0.0.4; charset=utf-8"),
          scraper);
    } catch (GatewayException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(new GatewayException(
          GatewayError.unavailable("Too many metrics scrapes are waiting; retry shortly.")));
    }
  }

  /** Stops the scrape thread (a scrape in progress finishes). */
  public void close() {
    scraper.shutdown();
  }

  /** Answers {@code req} if it is for a local endpoint; returns false when the path is unknown. */
  /** @param identity the caller (its models restrict {@code /v1/models}; its namespace, the workflows) */
  public boolean handle(ChannelHandlerContext ctx, FullHttpRequest req, GatewaySnapshot snapshot,
      RequestContext request, dev.llmgw.core.access.Identity identity) {
    java.util.Set<String> allowedModels = identity.key() == null ? java.util.Set.of() : identity.key().models();
    RequestLogBuilder log = request.log();
    String requestId = request.requestId();
    boolean keepAlive = request.keepAlive();
    String path = log.log().path();
    boolean get = HttpMethod.GET.equals(req.method()) || HttpMethod.HEAD.equals(req.method());
    byte[] body;
    HttpResponseStatus status = HttpResponseStatus.OK;
    if (path.equals("/healthz")) {
      requireGet(get, log.log());
      body = "{\"status\":\"ok\"}".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    } else if (path.equals("/readyz")) {
      requireGet(get, log.log());
      boolean ready = !draining.getAsBoolean();
      dev.llmgw.core.state.StateStore.Health h = state == null ? null : state.health();
      boolean stateOk = h == null || h.up() || !stateRequired;
      status = ready && stateOk ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE;
      ObjectNode root = readiness(snapshot, ready, guards, modelFailures);
      if (!stateOk && ready) {
        root.put("status", "state_unavailable");
      }
      if (h != null) {
        ObjectNode n = root.putObject("state");
        n.put("store", state.kind());
        n.put("up", h.up());
        n.put("degraded", h.degraded());
        n.put("detail", h.detail());
      }
      body = json(root);
    } else if (path.equals(MODELS)) {
      requireGet(get, log.log());
      body = json(modelList(snapshot, allowedModels));
    } else if (path.startsWith(MODELS + "/") && path.length() > MODELS.length() + 1) {
      requireGet(get, log.log());
      String id = java.net.URLDecoder.decode(path.substring(MODELS.length() + 1),
          java.nio.charset.StandardCharsets.UTF_8);
      ModelAlias alias = snapshot.config().models().get(id);
      if (alias == null && dev.llmgw.core.route.ModelRouter.AUTO.equals(id) && autoServed(snapshot, allowedModels)) {
        body = json(auto());
      } else if (alias == null || !snapshot.config().backendOf(alias).enabled()
          || !(allowedModels.isEmpty() || allowedModels.contains(id))) {
        throw new GatewayException(GatewayError.modelNotFound(id, null));
      } else {
        body = json(model(alias));
      }
    } else {
      return false;
    }
    ClientResponses.writeJson(ctx, status, body, requestId, keepAlive, log);
    return true;
  }

  private static void requireGet(boolean get, RequestLog log) {
    if (!get) {
      throw new GatewayException(GatewayError.methodNotAllowed(log.method(), log.path(), "GET"));
    }
  }

  private ObjectNode modelList(GatewaySnapshot snapshot, java.util.Set<String> allowedModels) {
    ObjectNode root = RequestParser.JSON.createObjectNode();
    root.put("object", "list");
    ArrayNode data = root.putArray("data");
    if (autoServed(snapshot, allowedModels)) {
      data.add(auto());
    }
    for (ModelAlias m : snapshot.config().servableModels()) {
      if (allowedModels.isEmpty() || allowedModels.contains(m.alias())) {
        data.add(model(m));
      }
    }

    return root;
  }

  /** {@code auto} (routed by the rules) is a model when routing rules are loaded and the caller may name it. */
  private static boolean autoServed(GatewaySnapshot snapshot, java.util.Set<String> allowedModels) {
    return snapshot.router().policy() != null
        && (allowedModels.isEmpty() || allowedModels.contains(dev.llmgw.core.route.ModelRouter.AUTO));
  }

  private ObjectNode auto() {
    ObjectNode n = RequestParser.JSON.createObjectNode();
    n.put("id", dev.llmgw.core.route.ModelRouter.AUTO);
    n.put("object", "model");
    n.put("created", createdEpochSeconds);
    n.put("owned_by", "llm-gateway");
    return n;
  }

  private ObjectNode model(ModelAlias m) {
    ObjectNode n = RequestParser.JSON.createObjectNode();
    n.put("id", m.alias());
    n.put("object", "model");
    n.put("created", createdEpochSeconds);
    n.put("owned_by", m.ownedBy() == null ? m.backend() : m.ownedBy());
    return n;
  }

  private static ObjectNode readiness(GatewaySnapshot snapshot, boolean ready, BackendGuards guards,
      java.util.function.Function<String, java.util.Optional<String>> modelFailures) {
    ObjectNode root = RequestParser.JSON.createObjectNode();
    root.put("status", ready ? "ready" : "draining");
    ArrayNode backends = root.putArray("backends");
    for (BackendSpec b : snapshot.config().backends().values()) {
      ObjectNode n = backends.addObject();
      n.put("name", b.name());
      n.put("enabled", b.enabled());
      if (!b.enabled() && b.disabledReason() != null) {
        n.put("reason", b.disabledReason());
      }
      if (b.enabled()) {
        BackendGuard g = guards.guard(b);
        n.put("healthy", g.isHealthy());
        n.put("breaker", g.breaker().getState().name().toLowerCase(java.util.Locale.ROOT));
        n.put("up", g.isHealthy() && g.breaker().getState() != io.github.resilience4j.circuitbreaker.CircuitBreaker.State.OPEN);
        if (b.isInProcess()) {
          n.put("type", "inprocess");
          modelFailures.apply(b.name()).ifPresent(why -> n.put("reason", why));
        }
      }
    }
    return root;
  }

  private static byte[] json(ObjectNode node) {
    try {
      return RequestParser.JSON.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
