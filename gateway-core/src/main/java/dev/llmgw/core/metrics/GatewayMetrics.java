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
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The gateway's metrics, in one vocabulary (OpenTelemetry GenAI names where one exists, plus
 * {@code gateway.*}). Every label value comes from a config-bounded set — endpoint, tier, rule,
 * backend, configured alias, failure class, outcome, workflow type — never from raw request data
 * (a model name a client made up is reported as {@code -}).
 *
 * <p>Meters are resolved once per label combination and cached, so the hot path does a map lookup,
 * not a registry lookup; callbacks run on event loops and never block.
 */
public final class GatewayMetrics implements ExchangeEvents, dev.llmgw.core.log.RequestLogListener {
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
  private final Map<ReasonKey, Counter> lastResorts = new ConcurrentHashMap<>();
  private final Map<ReasonKey, Counter> retries = new ConcurrentHashMap<>();
  private final Map<ReasonKey, Counter> attemptFailures = new ConcurrentHashMap<>();
  private final Map<ReasonKey, Counter> skips = new ConcurrentHashMap<>();
  private final Map<ReasonKey, Counter> attempts = new ConcurrentHashMap<>();
  private final Map<String, DistributionSummary> attemptsPerRequest = new ConcurrentHashMap<>();
  private final Map<TokenKey, Counter> tokens = new ConcurrentHashMap<>();
  private final Map<CostKey, Counter> cost = new ConcurrentHashMap<>();
  private final Map<SavingsKey, Counter[]> savings = new ConcurrentHashMap<>();
  private final Map<DecisionKey, Counter> decisions = new ConcurrentHashMap<>();
  private final Map<RequestKey, Counter> cacheRequests = new ConcurrentHashMap<>();
  private final Map<RouteKey, Counter> cacheSaved = new ConcurrentHashMap<>();

  public GatewayMetrics(MeterRegistry registry) {
    this.registry = registry;
    io.micrometer.core.instrument.FunctionCounter.builder("gateway.route.regex_abandoned", GatewayMetrics.class,
            c -> dev.llmgw.routing.RoutingPolicy.regexSearchesAbandoned())
        .description("Regex searches of the routing rules given up after their step budget (the rule read the"
            + " text as no match): a regex that backtracks too much")
        .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Breaker state, calls and failure rate per backend, from Resilience4j's own binder. */
  public void bindBreakers(BackendGuards guards) {
    TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(guards.breakers()).bindTo(registry);
  }

  /** The response cache's size: bytes held (bodies and overhead) and entries. */
  public void bindCache(java.util.function.LongSupplier bytes, java.util.function.LongSupplier entries) {
    io.micrometer.core.instrument.Gauge.builder("gateway.cache.size", bytes::getAsLong).baseUnit("bytes")
        .description("Bytes held by the exact response cache (bounded by cache.maxBytes)").register(registry);
    io.micrometer.core.instrument.Gauge.builder("gateway.cache.entries", entries::getAsLong)
        .description("Answers held by the exact response cache").register(registry);
  }

  /** Requests whose model or tier is cached, by what the cache did; and the money its hits saved. */
  private void cache(RequestLog log, RequestKey key) {
    counter(cacheRequests, new RequestKey(NONE, key.tier(), key.backend(), key.model(), log.cache(), NONE),
        k -> Counter.builder("gateway.cache.requests")
            .description("Requests of cached models and tiers by what the cache did: hit, miss, refresh, bypass,"
                + " uncacheable (not deterministic)")
            .tags("tier", k.tier(), "backend", k.backend(), "model", k.model(), "outcome", k.outcome())
            .register(registry)).increment();
    if (log.cacheHit() && !Double.isNaN(log.cacheSaved())) {
      counter(cacheSaved, new RouteKey(key.tier(), key.backend(), key.model()), k -> Counter
          .builder("gateway.cache.saved").baseUnit("usd")
          .description("What cache hits would have cost at their model's price, in US dollars (not spent)")
          .tags("tier", k.tier(), "backend", k.backend(), "model", k.model()).register(registry))
          .increment(log.cacheSaved());
    }
  }

  record RequestKey(String endpoint, String tier, String backend, String model, String outcome, String status) {}

  record RouteKey(String tier, String backend, String model) {}

  record FallbackKey(String from, String to, String reason) {}

  record ReasonKey(String backend, String reason) {}

  record DecisionKey(String tier, String rule, String signal) {}

  record TokenKey(String type, String tier, String backend, String model, boolean estimated) {}

  record CostKey(String tier, String backend, String model, String workflowType) {}

  /** Savings labels: tier and model from configuration, team from the key file (never user input). */
  record SavingsKey(String tier, String model, String team) {}

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
  public void lastResort(Route from, Route to, FailureClass reason) {
    counter(lastResorts, new ReasonKey(to.backend().name(), to.alias().alias()), k -> Counter
        .builder("gateway.last_resort").description("Requests sent to failover.lastResort after every candidate failed")
        .tags("backend", k.backend(), "model", k.reason()).register(registry)).increment();
  }

  @Override
  public void skipped(Route route, Unavailable reason) {
    counter(skips, new ReasonKey(route.backend().name(), reason.tag()), k -> Counter
        .builder("gateway.backend.skipped").description("Candidates not tried (breaker open, bulkhead full, ...)")
        .tags("backend", k.backend(), "reason", k.reason()).register(registry)).increment();
  }

  /**
   * The meters one kind of request records into, found with one map lookup per request (the key's
   * labels come from configuration and a fixed set of outcomes, so the map is bounded). Each meter
   * is registered on first use, as before: a series appears when it first counts something.
   */
  private final class RequestMeters {
    final RequestKey key;
    final Counter requests;
    final Timer duration;
    // set on first use by whichever event loop gets there (the same meter either way: the maps below)
    private volatile Timer ttft;
    private volatile Timer overhead;
    private volatile DistributionSummary attempts;
    private final AtomicReferenceArray<Counter> tokens =
        new AtomicReferenceArray<>(6); // input, cached_input, output × measured, estimated

    RequestMeters(RequestKey key) {
      this.key = key;
      requests = counter(GatewayMetrics.this.requests, key, k -> Counter.builder("gateway.requests")
          .description("Client requests")
          .tags("endpoint", k.endpoint(), "tier", k.tier(), "backend", k.backend(), "model", k.model(),
              "outcome", k.outcome(), "status", k.status()).register(registry));
      duration = durations.computeIfAbsent(new RequestKey(key.endpoint(), key.tier(), key.backend(), NONE,
          key.outcome(), NONE), k -> Timer.builder("gateway.request.duration")
          .description("Client request duration, arrival to last byte")
          .tags("endpoint", k.endpoint(), "tier", k.tier(), "backend", k.backend(), "outcome", k.outcome())
          .serviceLevelObjectives(LATENCY_SLOS).register(registry));
    }

    Timer ttft() {
      Timer t = ttft;
      if (t == null) {
        t = ttft = GatewayMetrics.this.ttft.computeIfAbsent(new RouteKey(key.tier(), key.backend(), key.model()),
            k -> Timer.builder("gen_ai.server.time_to_first_token").description("Arrival to the first response byte sent")
                .tags("tier", k.tier(), "backend", k.backend(), "model", k.model())
                .serviceLevelObjectives(LATENCY_SLOS).register(registry));
      }
      return t;
    }

    Timer overhead() {
      Timer t = overhead;
      if (t == null) {
        t = overhead = GatewayMetrics.this.overhead.computeIfAbsent(key.endpoint(), e -> Timer.builder("gateway.overhead")
            .description("Time spent in the gateway before the first backend attempt (parse, validate, route)")
            .tags("endpoint", e).serviceLevelObjectives(OVERHEAD_SLOS).register(registry));
      }
      return t;
    }

    DistributionSummary attempts() {
      DistributionSummary d = attempts;
      if (d == null) {
        d = attempts = attemptsPerRequest.computeIfAbsent(key.tier(), t -> DistributionSummary
            .builder("gateway.request.attempts").description("Attempts per request (1 = answered by the first try)")
            .tags("tier", t).serviceLevelObjectives(1, 2, 3, 4, 6, 10).register(registry));
      }
      return d;
    }

    Counter tokens(int type, boolean estimated) {
      int i = type + (estimated ? 3 : 0);
      Counter c = tokens.get(i);
      if (c == null) {
        c = GatewayMetrics.this.tokens(key, TOKEN_TYPES[type], estimated);
        tokens.set(i, c);
      }
      return c;
    }
  }

  private static final String[] TOKEN_TYPES = {"input", "cached_input", "output"};
  private final Map<RequestKey, RequestMeters> byRequest = new ConcurrentHashMap<>();

  /** Counts and times an ended request (a {@link dev.llmgw.core.log.RequestLogListener}). */
  @Override
  public void onEnd(RequestLog log) {
    long now = System.nanoTime();
    RequestKey key = new RequestKey(orNone(log.endpoint()), orNone(log.tier()), orNone(log.backend()), orNone(log.alias()),
        log.outcome().label(), statusClass(log.status()));
    RequestMeters m = byRequest.get(key);
    if (m == null) {
      m = byRequest.computeIfAbsent(key, RequestMeters::new);
    }
    m.requests.increment();
    m.duration.record(now - log.startNanos(), TimeUnit.NANOSECONDS);
    if (log.firstByteNanos() != 0 && !log.cacheHit()) { // a hit's first byte says nothing of the model's
      m.ttft().record(log.firstByteNanos() - log.startNanos(), TimeUnit.NANOSECONDS);
    }
    if (log.firstAttemptNanos() != 0) {
      m.overhead().record(log.firstAttemptNanos() - log.startNanos(), TimeUnit.NANOSECONDS);
    }
    if (log.tier() != null) {
      counter(decisions, new DecisionKey(log.tier(), log.rule(), orNone(log.signal())),
          k -> Counter.builder("gateway.route.decisions")
          .description("Routing decisions by tier, the rule that decided (rule names come from routing.yaml) "
              + "and the signal it read: rule, semantic, judge, default, forced-by-header, pinned, "
              + "classifier-fallback")
          .tags("tier", k.tier(), "rule", k.rule(), "signal", k.signal()).register(registry)).increment();
    }
    if (log.promptTokens() >= 0) {
      m.tokens(0, log.usageEstimated()).increment(Math.max(0, log.promptTokens() - log.cachedPromptTokens()));
      m.tokens(1, log.usageEstimated()).increment(log.cachedPromptTokens());
      m.tokens(2, log.usageEstimated()).increment(Math.max(0, log.completionTokens()));
    }
    if (!Double.isNaN(log.cost())) {
      counter(cost, new CostKey(key.tier(), key.backend(), key.model(), orNone(log.workflowType())), k -> Counter
          .builder("gateway.cost").baseUnit("usd").description("Model cost of requests in US dollars (list prices)")
          .tags("tier", k.tier(), "backend", k.backend(), "model", k.model(), "workflow_type", k.workflowType())
          .register(registry)).increment(log.cost());
    }
    if (!Double.isNaN(log.cost()) && !Double.isNaN(log.baselineCost())) {
      Counter[] c = savings.get(new SavingsKey(key.tier(), key.model(), orNone(log.team())));
      if (c == null) {
        c = savings.computeIfAbsent(new SavingsKey(key.tier(), key.model(), orNone(log.team())), k -> new Counter[] {
            Counter.builder("gateway.savings.actual").baseUnit("usd")
                .description("Cost of requests whose baseline cost is known, in US dollars (all traffic; pair"
                    + " with gateway_savings_baseline_usd_total)")
                .tags("tier", k.tier(), "model", k.model(), "team", k.team()).register(registry),
            Counter.builder("gateway.savings.baseline").baseUnit("usd")
                .description("What the same tokens would have cost on the baseline (strongest) model, in US"
                    + " dollars: baseline minus actual is what routing saved")
                .tags("tier", k.tier(), "model", k.model(), "team", k.team()).register(registry)});
      }
      c[0].increment(log.cost());
      c[1].increment(log.baselineCost());
    }
    if (log.attempts() > 0) {
      m.attempts().record(log.attempts());
    }
    if (log.cache() != null) {
      cache(log, key);
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
