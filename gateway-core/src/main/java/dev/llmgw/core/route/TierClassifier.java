package dev.llmgw.core.route;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.routing.Classifier;
import dev.llmgw.routing.RequestFeatures;
import dev.llmgw.routing.RouteDecision;
import dev.llmgw.routing.RoutingPolicy;
import dev.llmgw.routing.SignalNeeded;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The classifier stage: gives a request the signals its rules reach — the semantic score
 * (embedding, CPU work on a small bounded pool of its own) and the judge's verdict (a model call
 * on the JDK HTTP client) — and decides again, until the rules decide. Never on an event loop; the
 * request waits asynchronously.
 *
 * <p>A signal that does not come in time (semantic: {@code classifier.semantic.timeout}, queueing
 * included; judge: {@code classifier.judge.timeout}), fails, or is refused because the queue is
 * full gives the safe tier (rule {@value RouteDecision#FALLBACK}), counted in {@code
 * gateway.classifier.fallbacks}. Judge verdicts are cached by a hash of the classified text.
 *
 * <p>Metrics: {@code gateway.classifier.duration} (the whole stage per classified request, by the
 * signal that decided), {@code gateway.classifier.fallbacks} (by signal and reason), {@code
 * gateway.classifier.second_opinions} (asked or skipped); decisions by signal are {@code
 * gateway.route.decisions}' {@code signal} label.
 *
 * <p>A second opinion (a second embedding model for a request whose first scores are close to a
 * rule's threshold) runs on threads of its own, asked only while first scores and second opinions
 * in progress are together fewer than {@code classifier.threads}: under load the request is decided
 * on its first scores instead, so the extra model never queues other requests' first scores behind
 * it, never runs more embeddings at once than there are classifier threads, and sheds itself before
 * the first stage slows down.
 */
public final class TierClassifier implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TierClassifier.class);

  private final ThreadPoolExecutor pool;
  private final AtomicInteger waiting = new AtomicInteger();
  /** Second opinions run here, never queued: only in a spare classifier thread's place, else skipped. */
  private final ThreadPoolExecutor secondPool;
  private final AtomicInteger secondWaiting = new AtomicInteger();
  /** Judge calls in flight; bounded by the queue setting like the requests waiting for a thread. */
  private final AtomicInteger judging = new AtomicInteger();
  private final JudgeClient judge = new JudgeClient();
  private final Cache<String, String> verdicts;
  private final MeterRegistry registry;
  private final Map<String, Timer> durations = new ConcurrentHashMap<>();
  private final Map<String, Counter> fallbacks = new ConcurrentHashMap<>();
  private final Map<String, Counter> secondOpinions = new ConcurrentHashMap<>();
  private volatile ClassifierSettings settings = ClassifierSettings.DEFAULTS;

  public TierClassifier(MeterRegistry registry) {
    this.registry = registry;
    this.pool = pool("classifier-");
    this.secondPool = pool("classifier-second-");
    this.verdicts = Caffeine.newBuilder().maximumSize(ClassifierSettings.DEFAULTS.judgeCacheSize()).build();
  }

  private static ThreadPoolExecutor pool(String name) {
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor p = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, name + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    p.allowCoreThreadTimeOut(true);
    return p;
  }

  /** For tests and tools: metrics go nowhere. */
  public TierClassifier() {
    this(new SimpleMeterRegistry());
  }

  /** Applies a (re)loaded policy's limits: pool size, queue bound, judge cache size. */
  public void configure(ClassifierSettings s) {
    settings = s;
    verdicts.policy().eviction().ifPresent(e -> e.setMaximum(s.judgeCacheSize()));
    resize(pool, s.threads());
    resize(secondPool, s.threads());
  }

  private static void resize(ThreadPoolExecutor p, int threads) {
    if (threads > p.getMaximumPoolSize()) {
      p.setMaximumPoolSize(threads);
      p.setCorePoolSize(threads);
    } else {
      p.setCorePoolSize(threads);
      p.setMaximumPoolSize(threads);
    }
  }

  /**
   * The classifier's own threads. Tests hold one to stand for a slow classifier; nothing else
   * should run here.
   */
  public java.util.concurrent.Executor executor() {
    return pool;
  }

  /**
   * For tests: work run here counts as a second opinion in progress (so a held task makes the next
   * second opinion be skipped, as a busy thread would).
   */
  java.util.concurrent.Executor secondExecutor() {
    return r -> {
      secondWaiting.incrementAndGet();
      secondPool.execute(() -> {
        try {
          r.run();
        } finally {
          secondWaiting.decrementAndGet();
        }
      });
    };
  }

  /** Requests waiting for or being scored by a classifier thread. */
  public int pending() {
    return waiting.get();
  }

  /**
   * Decides {@code f} with {@code policy}, computing the signals the rules reach.
   *
   * @param safeTier the tier when a signal cannot be had (the policy's {@code safeTier}, or the
   *                 highest tier the caller may use)
   * @return completes with the decision, never exceptionally, on a classifier or HTTP thread
   */
  public CompletableFuture<RouteDecision> decide(RoutingPolicy policy, RequestFeatures f,
      String safeTier, GatewayConfig config) {
    return decide(policy, f, null, safeTier, config);
  }

  /**
   * {@link #decide(RoutingPolicy, RequestFeatures, String, GatewayConfig)} for a request whose rules
   * already asked for {@code needed} (the caller ran {@link RoutingPolicy#decide} and caught it): the
   * stage starts with that signal instead of evaluating the rules again on the caller's thread.
   */
  public CompletableFuture<RouteDecision> decide(RoutingPolicy policy, RequestFeatures f,
      SignalNeeded needed, String safeTier, GatewayConfig config) {
    long start = System.nanoTime();
    CompletableFuture<RouteDecision> out = new CompletableFuture<>();
    if (needed == null) {
      step(policy, f, safeTier, config, out, start);
    } else {
      supply(needed, policy, f, safeTier, config, out, start);
    }
    return out;
  }

  /** Decides again, and supplies the next signal the rules ask for. */
  private void step(RoutingPolicy policy, RequestFeatures f, String safeTier,
      GatewayConfig config, CompletableFuture<RouteDecision> out, long start) {
    SignalNeeded needed;
    try {
      RouteDecision d = policy.decide(f);
      timer(policy.signal(d)).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      out.complete(d);
      return;
    } catch (SignalNeeded n) {
      needed = n;
    } catch (RuntimeException e) {
      LOG.error("routing policy failed on a request; safe tier {}", safeTier, e);
      fallback(policy, f, safeTier, "semantic", "error", out, start);
      return;
    }
    supply(needed, policy, f, safeTier, config, out, start);
  }

  /** Computes {@code needed} off the caller's thread, then {@link #step}s again. */
  private void supply(SignalNeeded needed, RoutingPolicy policy, RequestFeatures f, String safeTier,
      GatewayConfig config, CompletableFuture<RouteDecision> out, long start) {
    ClassifierSettings s = settings;
    if (needed.kind() == SignalNeeded.Kind.SEMANTIC) {
      // a request with scores already needs a second opinion (they were close to a threshold):
      // extra work, on threads of its own, asked only while the classifier has a thread's worth of
      // CPU to spare (first scores and second opinions in progress together fewer than `threads`);
      // otherwise the first scores decide, so it never queues ahead of, or behind, other requests'
      // first scores, nor runs more embeddings at once than the operator gave threads for
      boolean second = f.hasSemantic();
      ThreadPoolExecutor on = second ? secondPool : pool;
      AtomicInteger count = second ? secondWaiting : waiting;
      boolean busy = second && waiting.get() + secondWaiting.get() >= s.threads();
      if (busy || count.incrementAndGet() > (second ? s.threads() : s.threads() + s.queue())) {
        if (!busy) {
          count.decrementAndGet();
        }
        if (second) {
          secondOpinion("skipped").increment();
          f.semantic(f.semantic().withoutSecondOpinion());
          step(policy, f, safeTier, config, out, start);
        } else {
          fallback(policy, f, safeTier, "semantic", "queue_full", out, start);
        }
        return;
      }
      if (second) {
        secondOpinion("asked").increment();
      }
      CompletableFuture<Void> scored = new CompletableFuture<>();
      try {
        on.execute(() -> {
          Throwable failed = null;
          try {
            if (!scored.isDone()) {
              f.semantic(policy.computeSemantic(f));
            }
          } catch (RuntimeException | LinkageError e) {
            failed = e;
          } finally {
            count.decrementAndGet(); // before the rules run again: this request no longer waits
          }
          if (failed == null) {
            scored.complete(null);
          } else {
            scored.completeExceptionally(failed);
          }
        });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        count.decrementAndGet();
        fallback(policy, f, safeTier, "semantic", "queue_full", out, start);
        return;
      }
      long left = s.semanticTimeout().toNanos() - (System.nanoTime() - start);
      scored.orTimeout(Math.max(1, left), TimeUnit.NANOSECONDS).whenComplete((v, err) -> {
        if (err != null) {
          boolean timeout = err instanceof TimeoutException;
          if (!timeout) {
            LOG.warn("semantic classifier failed; safe tier {}: {}", safeTier, err.toString());
          }
          fallback(policy, f, safeTier, "semantic", timeout ? "timeout" : "error", out, start);
        } else {
          step(policy, f, safeTier, config, out, start);
        }
      });
      return;
    }
    if (judging.incrementAndGet() > Math.max(1, s.queue())) {
      judging.decrementAndGet();
      fallback(policy, f, safeTier, "judge", "queue_full", out, start);
      return;
    }
    judge(policy, f, config, s).whenComplete((tier, err) -> {
      judging.decrementAndGet();
      if (err != null) {
        Throwable cause = err instanceof java.util.concurrent.CompletionException
            && err.getCause() != null ? err.getCause() : err;
        boolean timeout = cause instanceof TimeoutException
            || cause instanceof java.net.http.HttpTimeoutException;
        LOG.debug("judge failed; safe tier {}: {}", safeTier, cause.toString());
        fallback(policy, f, safeTier, "judge", timeout ? "timeout" : "error", out, start);
      } else {
        f.judgeVerdict(tier);
        step(policy, f, safeTier, config, out, start);
      }
    });
  }

  /**
   * Asks the judge and waits (for {@code explain} and {@code eval}, never on an event loop).
   *
   * @return the tier named, or {@code null} when the judge failed or timed out
   */
  public String judgeBlocking(RoutingPolicy policy, RequestFeatures f, GatewayConfig config) {
    try {
      return judge(policy, f, config, settings).join();
    } catch (RuntimeException e) {
      LOG.debug("judge failed: {}", e.toString());
      return null;
    }
  }

  private CompletableFuture<String> judge(RoutingPolicy policy, RequestFeatures f,
      GatewayConfig config, ClassifierSettings s) {
    Classifier c = policy.classifier();
    String text = String.join("\n---\n", f.segments());
    String key = sha256(c.judgeModel() + "\n" + c.judgePrompt() + "\n" + text);
    // a cache of size 0 means none: Caffeine evicts after the fact (asynchronously), so a verdict put
    // into a size-0 cache could still be served to the next request
    boolean caching = s.judgeCacheSize() > 0;
    String cached = caching ? verdicts.getIfPresent(key) : null;
    if (cached != null && policy.tiers().contains(cached)) {
      return CompletableFuture.completedFuture(cached);
    }
    ModelAlias alias = config.models().get(c.judgeModel());
    BackendSpec backend = alias == null ? null : config.backendOf(alias);
    if (backend == null || !backend.enabled()) {
      return CompletableFuture.failedFuture(new IllegalStateException("judge model '"
          + c.judgeModel() + "' has no enabled backend"));
    }
    return judge.judge(alias, backend, c.judgePrompt(), text, policy.tiers(), s.judgeTimeout())
        .orTimeout(s.judgeTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .thenApply(tier -> {
          if (caching) {
            verdicts.put(key, tier);
          }
          return tier;
        });
  }

  private void fallback(RoutingPolicy policy, RequestFeatures f, String safeTier, String signal,
      String reason, CompletableFuture<RouteDecision> out, long start) {
    fallbacks.computeIfAbsent(signal + "|" + reason, k -> Counter
        .builder("gateway.classifier.fallbacks")
        .description("Requests given the safe tier because a classifier signal timed out, failed or "
            + "was refused (queue full)")
        .tag("signal", signal).tag("reason", reason).register(registry)).increment();
    RouteDecision d = policy.fallback(f, safeTier);
    timer(RouteDecision.FALLBACK).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    out.complete(d);
  }

  private Counter secondOpinion(String outcome) {
    return secondOpinions.computeIfAbsent(outcome, o -> Counter
        .builder("gateway.classifier.second_opinions")
        .description("Requests whose first semantic scores were close to a threshold: the second "
            + "model asked, or skipped because the classifier was busy")
        .tag("outcome", o).register(registry));
  }

  private Timer timer(String signal) {
    return durations.computeIfAbsent(signal, s -> Timer.builder("gateway.classifier.duration")
        .description("Time from a request reaching a costly signal (semantic, judge) to its tier, "
            + "by the signal that decided")
        .tag("signal", s)
        .serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
            Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofSeconds(2), Duration.ofSeconds(5))
        .register(registry));
  }

  static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    pool.shutdownNow();
    secondPool.shutdownNow();
  }
}
