package dev.llmgw.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.resilience.BackendGuard;
import dev.llmgw.core.resilience.BackendGuards;
import dev.llmgw.core.route.Caller;
import dev.llmgw.core.route.ModelRouter;
import dev.llmgw.core.route.Route;
import dev.llmgw.routing.TraceStep;
import dev.llmgw.server.ConfigReloader;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;

/**
 * Operator endpoints, answered off the event loops on one bounded admin thread (they read files,
 * classify whole bodies, walk the ledger):
 *
 * <ul>
 *   <li>{@code POST /admin/reload} — reload the config directory now; 200 with the new version, or
 *       422 listing every problem (the last good config keeps serving);
 *   <li>{@code POST /admin/explain} — the routing decision for a request body (this request's own
 *       headers count as the request's headers) with the trace of rules tried; calls no backend;
 *   <li>{@code GET /admin/config} — what is serving: versions, tiers, rules, backends and their
 *       state, models (no key, ever);
 *   <li>{@code GET /admin/economics} — the unit-economics report (see {@link EconomicsEndpoints}).
 * </ul>
 */
public final class AdminEndpoints implements AutoCloseable {
  public static final String PREFIX = "/admin/";

  private final ConfigReloader reloader;
  private final dev.llmgw.core.route.TierClassifier classifier;
  private final EconomicsEndpoints economics;
  /** Resolves a named key for explain (null: explain as anonymous only). */
  private dev.llmgw.core.access.AccessControl access;
  private final BackendGuards guards;
  private final ExecutorService worker = BoundedWorkers.of("gateway-admin", 1, 64);

  public AdminEndpoints(ConfigReloader reloader, EconomicsEndpoints economics, BackendGuards guards) {
    this(reloader, economics, guards, null);
  }

  /** @param classifier asks the judge for explain when a rule reaches it (null: the judge counts as failed) */
  public AdminEndpoints(ConfigReloader reloader, EconomicsEndpoints economics, BackendGuards guards,
      dev.llmgw.core.route.TierClassifier classifier) {
    this.classifier = classifier;
    this.reloader = reloader;
    this.economics = economics;
    this.guards = guards;
  }

  /** Workflow reads and outcomes: their own threads, so a slow shared store never queues the admin work. */
  private final ExecutorService ledgerWorker = BoundedWorkers.of("gateway-ledger", 2, 1024);

  /** Lets {@code POST /admin/explain?key=NAME} explain as that key, with its live budget state. */
  public AdminEndpoints withAccess(dev.llmgw.core.access.AccessControl access) {
    this.access = access;
    return this;
  }

  static boolean owns(String path) {
    return path.startsWith(PREFIX);
  }

  /** A workflow endpoint ({@code /v1/workflows/...}): checked now, answered off the event loop. */
  CompletableFuture<byte[]> workflows(FullHttpRequest req, String path, GatewaySnapshot snapshot,
      dev.llmgw.core.access.Identity identity) {
    try {
      return CompletableFuture.supplyAsync(economics.prepare(req, path, identity), ledgerWorker);
    } catch (GatewayException e) {
      return CompletableFuture.failedFuture(e);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(new GatewayException(
          GatewayError.unavailable("Too many workflow requests are waiting; retry shortly.")));
    }
  }

  /** The answer, computed off the event loop; a failed future carries a {@link GatewayException}. */
  CompletableFuture<byte[]> handle(FullHttpRequest req, String path, GatewaySnapshot snapshot) {
    try {
      return switch (path) {
        case "/admin/reload" -> {
          require(req, HttpMethod.POST, path);
          yield reloader == null ? CompletableFuture.failedFuture(new GatewayException(
              GatewayError.unavailable("Reload is not available (no config directory)."))) : reloader.reload("admin")
              .thenApply(AdminEndpoints::reloadAnswer);
        }
        case "/admin/explain" -> {
          require(req, HttpMethod.POST, path);
          ParsedRequest parsed = parse(req);
          HttpHeaders headers = req.headers().copy();
          // ?key=NAME: routing as that gateway key gets it (tiers, models, forcing, budget downgrade)
          java.util.List<String> key = new io.netty.handler.codec.http.QueryStringDecoder(req.uri()).parameters()
              .get("key");
          Caller caller = key == null || key.isEmpty() || access == null ? Caller.ANONYMOUS
              : access.callerNamed(key.get(0), snapshot.config().access());
          yield CompletableFuture.supplyAsync(() -> explain(snapshot, parsed, headers, caller), worker);
        }
        case "/admin/config" -> {
          require(req, HttpMethod.GET, path);
          yield CompletableFuture.supplyAsync(() -> config(snapshot), worker);
        }
        case EconomicsEndpoints.REPORT -> {
          require(req, HttpMethod.GET, path);
          String uri = req.uri();
          yield CompletableFuture.supplyAsync(() -> economics.report(uri, snapshot), worker);
        }
        default -> throw new GatewayException(GatewayError.unknownPath(req.method().name(), path));
      };
    } catch (GatewayException | RejectedExecutionException e) {
      return CompletableFuture.failedFuture(e instanceof GatewayException ? e
          : new GatewayException(GatewayError.unavailable("The admin queue is full; retry shortly.")));
    }
  }

  private static byte[] reloadAnswer(ConfigReloader.Result r) {
    if (!r.applied()) {
      throw new GatewayException(GatewayError.configRefused(r.version(), r.problems()));
    }
    ObjectNode n = RequestParser.JSON.createObjectNode();
    n.put("applied", true);
    n.put("version", r.version());
    return json(n);
  }

  private static ParsedRequest parse(FullHttpRequest req) {
    ObjectNode peek;
    try {
      var tree = RequestParser.JSON.readTree(new ByteBufInputStream(req.content().duplicate()));
      if (tree == null || !tree.isObject()) {
        throw new GatewayException(GatewayError.malformedJson("expected a chat or completion request object"));
      }
      peek = (ObjectNode) tree;
    } catch (java.io.IOException e) {
      throw new GatewayException(GatewayError.malformedJson(e.getMessage()));
    }
    Endpoint endpoint = peek.has("messages") || !peek.has("prompt") ? Endpoint.CHAT_COMPLETIONS : Endpoint.COMPLETIONS;
    return RequestParser.parse(endpoint, new ByteBufInputStream(req.content().duplicate()));
  }

  private byte[] explain(GatewaySnapshot snapshot, ParsedRequest parsed, HttpHeaders headers, Caller caller) {
    var policy = snapshot.policy();
    ModelRouter.Explanation e = snapshot.router().explain(parsed, headers::get, caller,
        classifier == null || policy == null ? null
            : f -> classifier.judgeBlocking(policy, f, snapshot.config()));
    ObjectNode n = RequestParser.JSON.createObjectNode();
    n.put("configVersion", snapshot.version());
    n.put("caller", caller.keyName() == null ? "anonymous" : caller.keyName());
    n.put("model", parsed.model());
    if (e.plan() != null) {
      n.put("tier", e.plan().tier());
      n.put("rule", e.plan().rule());
      if (e.plan().downgradedFrom() != null) {
        n.put("downgradedFrom", e.plan().downgradedFrom());
      }
      ArrayNode candidates = n.putArray("candidates");
      for (Route r : e.plan().candidates()) {
        ObjectNode c = candidates.addObject();
        c.put("model", r.alias().alias());
        c.put("backend", r.backend().name());
        c.put("backendModel", r.backendModel());
        BackendGuard g = guards.guard(r.backend());
        c.put("healthy", g.isHealthy());
        c.put("breaker", g.breaker().getState().name().toLowerCase(Locale.ROOT));
      }
    } else {
      ObjectNode refusal = n.putObject("refusal");
      refusal.put("status", e.refusal().status());
      refusal.put("code", e.refusal().code());
      refusal.put("message", e.refusal().message());
    }
    ArrayNode trace = n.putArray("trace");
    for (TraceStep step : e.trace()) {
      ObjectNode t = trace.addObject();
      t.put("rule", step.rule());
      t.put("matched", step.matched());
      t.put("detail", step.detail());
    }
    return json(n);
  }

  private byte[] config(GatewaySnapshot snapshot) {
    ObjectNode n = RequestParser.JSON.createObjectNode();
    n.put("version", snapshot.version());
    n.put("loadedAt", snapshot.loadedAt().toString());
    if (snapshot.policy() != null) {
      ObjectNode routing = n.putObject("routing");
      routing.put("policyVersion", snapshot.policy().version());
      routing.put("defaultTier", snapshot.policy().defaultTier());
      ObjectNode tiers = routing.putObject("tiers");
      for (String t : snapshot.policy().tiers()) {
        ArrayNode targets = tiers.putArray(t);
        snapshot.policy().targets(t).forEach(targets::add);
      }
      ArrayNode rules = routing.putArray("rules");
      snapshot.policy().rules().forEach(rules::add);
    }
    dev.llmgw.core.config.StateSettings st = snapshot.config().state();
    ObjectNode state = n.putObject("state"); // the store read at start; the Redis URL without its password
    state.put("store", st.store().name().toLowerCase(Locale.ROOT));
    if (st.store() == dev.llmgw.core.config.StateSettings.Store.EMBEDDED) {
      state.put("path", String.valueOf(st.path()));
    } else if (st.store() == dev.llmgw.core.config.StateSettings.Store.REDIS) {
      state.put("redis", st.redisTarget());
      state.put("onUnavailable", st.failOpen() ? "failOpen" : "failClosed");
    }
    ArrayNode backends = n.putArray("backends");
    for (BackendSpec b : snapshot.config().backends().values()) {
      ObjectNode o = backends.addObject();
      o.put("name", b.name());
      o.put("baseUrl", b.baseUrl().toString());
      o.put("enabled", b.enabled());
      if (b.disabledReason() != null) {
        o.put("disabledReason", b.disabledReason());
      }
      o.put("providerKey", b.providerKey().isPresent() ? "set (from " + b.apiKeyEnv() + ")" : "none");
      if (b.enabled()) {
        BackendGuard g = guards.guard(b);
        o.put("healthy", g.isHealthy());
        o.put("breaker", g.breaker().getState().name().toLowerCase(Locale.ROOT));
      }
    }
    ObjectNode models = n.putObject("models");
    for (ModelAlias m : snapshot.config().models().values()) {
      models.put(m.alias(), m.backend() + "/" + m.backendModel());
    }
    return json(n);
  }

  private static void require(FullHttpRequest req, HttpMethod method, String path) {
    if (!method.equals(req.method())) {
      throw new GatewayException(GatewayError.methodNotAllowed(req.method().name(), path, method.name()));
    }
  }

  static byte[] json(Object o) {
    try {
      return RequestParser.JSON.writeValueAsBytes(o);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    worker.shutdownNow();
    ledgerWorker.shutdownNow();
  }
}
