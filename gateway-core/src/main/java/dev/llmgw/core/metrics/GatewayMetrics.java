package dev.llmgw.core.metrics;

import dev.llmgw.core.exchange.ExchangeEvents;
import dev.llmgw.core.log.RequestLog;
import dev.llmgw.core.resilience.BackendGuards;
import dev.llmgw.core.resilience.FailureClass;
import dev.llmgw.core.resilience.Unavailable;
import dev.llmgw.core.route.Route;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The gateway's metrics, in one vocabulary (OpenTelemetry GenAI names where one exists, plus
 * {@code gateway.*}). Every label value comes from a config-bounded set — endpoint, tier, rule,
 * backend, configured alias, failure class, outcome, workflow type — never from raw request data
 * (a model name a client made up is reported as {@code -}).
 *
 * <p>Meters are resolved once per label combination and cached, so the hot path does a map lookup,
 * not a registry lookup; callbacks run on event loops and never block.
 */
public final class GatewayMetrics implements ExchangeEvents {
  static final String NONE = "-";
  private static final Duration[] LATENCY_SLOS = {
      Duration.ofMillis(5), Duration.ofMillis(25), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5),
      Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(120)};
  private static final Duration[] OVERHEAD_SLOS = {
      Duration.ofNanos(50_000), Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
      Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(50)};

  private final MeterRegistry registry;
  private final Map<RequestKey, Counter> requests = new ConcurrentHashMap<>();
  private final Map<RequestKey, Timer> durations = new ConcurrentHashMap<>();
  private final Map<RouteKey, Timer> ttft = new ConcurrentHashMap<>();
  private final Map<String, Timer> overhead = new ConcurrentHashMap<>();
  private final Map<FallbackKey, Counter> fallbacks = new ConcurrentHashMap<>();
  private final Map<ReasonKey, Counter> retries = new ConcurrentHashMap<>();
  private final Map<ReasonKey, Counter> attemptFailures = new ConcurrentHashMap<>();
  private final Map<ReasonKey, Counter> skips = new ConcurrentHashMap<>();
  private final Map<ReasonKey, Counter> attempts = new ConcurrentHashMap<>();
  private final Map<String, DistributionSummary> attemptsPerRequest = new ConcurrentHashMap<>();
  private final Map<TokenKey, Counter> tokens = new ConcurrentHashMap<>();
  private final Map<CostKey, Counter> cost = new ConcurrentHashMap<>();
  private final Map<ReasonKey, Counter> decisions = new ConcurrentHashMap<>();

  public GatewayMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Breaker state, calls and failure rate per backend, from Resilience4j's own binder. */
  public void bindBreakers(BackendGuards guards) {
    TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(guards.breakers()).bindTo(registry);
  }

  record RequestKey(String endpoint, String tier, String backend, String model, String outcome, String status) {}

  record RouteKey(String tier, String backend, String model) {}

  record FallbackKey(String from, String to, String reason) {}

  record ReasonKey(String backend, String reason) {}

  record TokenKey(String type, String tier, String backend, String model, boolean estimated) {}

  record CostKey(String tier, String backend, String model, String workflowType) {}

  @Override
  public void attemptStarted(Route route) {
    counter(attempts, new ReasonKey(route.backend().name(), route.alias().alias()), k -> Counter
        .builder("gateway.backend.attempts").description("Attempts sent to a backend (retries and fallbacks included)")
        .tags("backend", k.backend(), "model", k.reason()).register(registry)).increment();
  }

  @Override
  public void attemptFailed(Route route, FailureClass failure, long durationNanos, boolean committed) {
    counter(attemptFailures, new ReasonKey(route.backend().name(), failure.tag()), k -> Counter
        .builder("gateway.backend.failures").description("Failed attempts by backend and failure class")
        .tags("backend", k.backend(), "reason", k.reason()).register(registry)).increment();
  }

  @Override
  public void retried(Route route, FailureClass failure) {
    counter(retries, new ReasonKey(route.backend().name(), failure.tag()), k -> Counter
        .builder("gateway.retries").description("Retries on the same backend")
        .tags("backend", k.backend(), "reason", k.reason()).register(registry)).increment();
  }

  @Override
  public void fellBack(Route from, Route to, FailureClass reason) {
    counter(fallbacks, new FallbackKey(from.backend().name(), to.backend().name(), reason.tag()), k -> Counter
        .builder("gateway.fallbacks").description("Requests moved from one backend to the next")
        .tags("from", k.from(), "to", k.to(), "reason", k.reason()).register(registry)).increment();
  }

  @Override
  public void skipped(Route route, Unavailable reason) {
    counter(skips, new ReasonKey(route.backend().name(), reason.tag()), k -> Counter
        .builder("gateway.backend.skipped").description("Candidates not tried (breaker open, bulkhead full, ...)")
        .tags("backend", k.backend(), "reason", k.reason()).register(registry)).increment();
  }

  @Override
  public void completed(RequestLog log) {
    String endpoint = orNone(log.endpoint);
    String tier = orNone(log.tier);
    String backend = orNone(log.backend);
    String model = orNone(log.alias);
    RequestKey key = new RequestKey(endpoint, tier, backend, model, log.outcome, statusClass(log.status));
    counter(requests, key, k -> Counter.builder("gateway.requests").description("Client requests")
        .tags("endpoint", k.endpoint(), "tier", k.tier(), "backend", k.backend(), "model", k.model(),
            "outcome", k.outcome(), "status", k.status()).register(registry)).increment();
    RequestKey durationKey = new RequestKey(endpoint, tier, backend, NONE, log.outcome, NONE);
    durations.computeIfAbsent(durationKey, k -> Timer.builder("gateway.request.duration")
        .description("Client request duration, arrival to last byte")
        .tags("endpoint", k.endpoint(), "tier", k.tier(), "backend", k.backend(), "outcome", k.outcome())
        .serviceLevelObjectives(LATENCY_SLOS).register(registry))
        .record(System.nanoTime() - log.startNanos, TimeUnit.NANOSECONDS);
    if (log.firstByteNanos != 0) {
      ttft.computeIfAbsent(new RouteKey(tier, backend, model), k -> Timer
          .builder("gen_ai.server.time_to_first_token").description("Arrival to the first response byte sent")
          .tags("tier", k.tier(), "backend", k.backend(), "model", k.model())
          .serviceLevelObjectives(LATENCY_SLOS).register(registry))
          .record(log.firstByteNanos - log.startNanos, TimeUnit.NANOSECONDS);
    }
    if (log.firstAttemptNanos != 0) {
      overhead.computeIfAbsent(endpoint, e -> Timer.builder("gateway.overhead")
          .description("Time spent in the gateway before the first backend attempt (parse, validate, route)")
          .tags("endpoint", e).serviceLevelObjectives(OVERHEAD_SLOS).register(registry))
          .record(log.firstAttemptNanos - log.startNanos, TimeUnit.NANOSECONDS);
    }
    if (log.tier != null) {
      counter(decisions, new ReasonKey(log.tier, log.rule), k -> Counter.builder("gateway.route.decisions")
          .description("Routing decisions by tier and the rule that decided (rule names come from routing.yaml)")
          .tags("tier", k.backend(), "rule", k.reason()).register(registry)).increment();
    }
    if (log.promptTokens >= 0) {
      tokens(key, "input", log.usageEstimated).increment(Math.max(0, log.promptTokens - log.cachedPromptTokens));
      tokens(key, "cached_input", log.usageEstimated).increment(log.cachedPromptTokens);
      tokens(key, "output", log.usageEstimated).increment(Math.max(0, log.completionTokens));
    }
    if (!Double.isNaN(log.cost)) {
      counter(cost, new CostKey(tier, backend, model, orNone(log.workflowType)), k -> Counter
          .builder("gateway.cost").baseUnit("usd").description("Model cost of requests in US dollars (list prices)")
          .tags("tier", k.tier(), "backend", k.backend(), "model", k.model(), "workflow_type", k.workflowType())
          .register(registry)).increment(log.cost);
    }
    if (log.attempts > 0) {
      attemptsPerRequest.computeIfAbsent(tier, t -> DistributionSummary.builder("gateway.request.attempts")
          .description("Attempts per request (1 = answered by the first try)").tags("tier", t)
          .serviceLevelObjectives(1, 2, 3, 4, 6, 10).register(registry)).record(log.attempts);
    }
  }

  private Counter tokens(RequestKey r, String type, boolean estimated) {
    return counter(tokens, new TokenKey(type, r.tier(), r.backend(), r.model(), estimated), k -> Counter
        .builder("gen_ai.client.token.usage").description("Tokens by type (estimated when the"
            + " backend reported none)")
        .tags("type", k.type(), "tier", k.tier(), "backend", k.backend(), "model", k.model(),
            "estimated", Boolean.toString(k.estimated()))
        .register(registry));
  }

  private static <K> Counter counter(Map<K, Counter> cache, K key, Function<K, Counter> create) {
    Counter c = cache.get(key);
    return c != null ? c : cache.computeIfAbsent(key, create);
  }

  private static String orNone(String s) {
    return s == null ? NONE : s;
  }

  private static String statusClass(int status) {
    return switch (status / 100) {
      case 2 -> "2xx";
      case 3 -> "3xx";
      case 4 -> status == 429 ? "429" : status == 499 ? "499" : "4xx";
      case 5 -> "5xx";
      default -> "other";
    };
  }
}
