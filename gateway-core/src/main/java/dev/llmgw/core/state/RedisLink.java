package dev.llmgw.core.state;

import dev.llmgw.core.config.StateSettings;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis store's connections and whether Redis answers: one Lettuce connection for state (commands
 * rejected at once while it is down, each bounded by the configured timeout) and one for the response
 * cache's large values ({@link #bulk}), the up/down state the store's
 * policy reads, and the writes that must not be lost. A write that runs once (its marker key) goes
 * through {@link #send}: while Redis is down, or when it fails, it waits in a bounded replay queue
 * (what does not fit is counted and logged, never dropped silently). A health check every second pings
 * Redis and, once it answers, replays the queue in order and marks it up again.
 *
 * <p>Thread-safe. {@link #send} and {@link #failed} never block; the health check blocks its own
 * thread ({@code gateway-state-check}) only.
 */
final class RedisLink {
  private static final Logger LOG = LoggerFactory.getLogger(RedisLink.class);
  static final int REPLAY_BOUND = 100_000;
  /** {@code CLIENT LIST} names: admission, settlement and ledger commands; the response cache's reads and writes. */
  static final String STATE_CLIENT_NAME = "llmgw-state";
  static final String CACHE_CLIENT_NAME = "llmgw-cache";

  private final StateSettings settings;
  private final RedisClient client;
  private final StatefulRedisConnection<String, String> connection;
  private final RedisAsyncCommands<String, String> redis;
  /** The response cache's own connection: its large values never queue admission commands behind them. */
  private final StatefulRedisConnection<String, String> bulkConnection;
  private final ArrayBlockingQueue<Supplier<CompletionStage<?>>> replay;
  private final int replayBound;
  /** Writes still waiting for Redis's answer (close waits for them before it closes the connection). */
  private final Set<CompletableFuture<?>> inFlightWrites = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService checker;
  private final Counter errors;
  private final Counter dropped;
  private final Counter replayed;
  private volatile boolean up = true;
  private volatile String lastError;

  /**
   * Connects (and pings) and starts the health check.
   *
   * @throws IllegalStateException with the target (never the password) and the reason when Redis
   *     cannot be reached or refuses the connection
   */
  RedisLink(StateSettings settings, MeterRegistry registry) {
    this(settings, registry, REPLAY_BOUND);
  }

  /** With a replay queue of {@code replayBound} writes (tests use a small one). */
  RedisLink(StateSettings settings, MeterRegistry registry, int replayBound) {
    this.settings = settings;
    RedisURI uri;
    try {
      uri = RedisURI.create(settings.redisUrl());
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("state.redis.url is not a Redis URL (" + settings.redisTarget() + ")", e);
    }
    uri.setTimeout(settings.timeout());
    this.client = RedisClient.create(uri);
    client.setOptions(ClientOptions.builder()
        .autoReconnect(true)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS) // fail fast while down
        .timeoutOptions(TimeoutOptions.enabled(settings.timeout()))
        .build());
    StatefulRedisConnection<String, String> main = null;
    try {
      main = client.connect();
      main.sync().ping();
      name(main, STATE_CLIENT_NAME);
      this.bulkConnection = client.connect();
      name(bulkConnection, CACHE_CLIENT_NAME);
      this.connection = main;
    } catch (RedisException e) {
      if (main != null) {
        main.close();
      }
      client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
      throw new IllegalStateException("cannot use Redis at " + settings.redisTarget() + " (state.redis.url): "
          + rootMessage(e), e);
    }
    this.redis = connection.async();
    this.replayBound = replayBound;
    this.replay = new ArrayBlockingQueue<>(replayBound);
    this.errors = Counter.builder("gateway.state.errors").description("Redis commands that failed or timed out")
        .tag("store", "redis").register(registry);
    this.dropped = Counter.builder("gateway.state.replay.dropped")
        .description("Settlements and ledger records that did not fit the replay queue while Redis was down")
        .register(registry);
    this.replayed = Counter.builder("gateway.state.replayed")
        .description("Settlements and ledger records written to Redis after it came back").register(registry);
    Gauge.builder("gateway.state.replay.pending", replay, ArrayBlockingQueue::size)
        .description("Settlements and ledger records waiting for Redis to come back").register(registry);
    this.checker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "gateway-state-check");
      t.setDaemon(true);
      return t;
    });
    checker.scheduleWithFixedDelay(this::check, 1, 1, TimeUnit.SECONDS);
  }

  /** Names the connection in {@code CLIENT LIST} where the server allows it (not every Redis-compatible one does). */
  private static void name(StatefulRedisConnection<String, String> c, String name) {
    try {
      c.sync().clientSetname(name);
    } catch (RedisException e) {
      LOG.debug("state: Redis refused CLIENT SETNAME {}: {}", name, e.getMessage());
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + ": " + t.getMessage();
  }

  /** Asynchronous commands (never block; Lettuce answers on its own threads). */
  RedisAsyncCommands<String, String> async() {
    return redis;
  }

  /**
   * Asynchronous commands on the cache's own connection: a connection answers in order, so a
   * megabyte-sized answer written on the state connection would hold every admission command sent after
   * it until Redis had read it. Up/down is still the state connection's (the health check pings that one).
   */
  RedisAsyncCommands<String, String> bulk() {
    return bulkConnection.async();
  }

  /** Blocking commands, each bounded by the timeout: admin reads and tests only, never the event loop. */
  RedisCommands<String, String> sync() {
    return connection.sync();
  }

  /** Four command timeouts: how long a blocking read, a ping or a replayed write may wait. */
  long waitMillis() {
    return settings.timeout().toMillis() * 4;
  }

  StateSettings settings() {
    return settings;
  }

  boolean isUp() {
    return up;
  }

  /** What failed last ({@code op: Exception message}), null once Redis answered again. */
  String lastError() {
    return lastError;
  }

  int pendingReplay() {
    return replay.size();
  }

  /**
   * Sends a write that runs once (its marker key) and must not be lost: queued for replay when Redis
   * is down or the write fails (a replay after a lost answer adds nothing).
   */
  void send(Supplier<CompletionStage<?>> call, String op) {
    if (!up) {
      queue(call);
      return;
    }
    CompletableFuture<?> sent = call.get().toCompletableFuture();
    inFlightWrites.add(sent);
    sent.whenComplete((r, failure) -> {
      inFlightWrites.remove(sent);
      if (failure != null) {
        failed(op, failure);
        queue(call);
      }
    });
  }

  /** Keeps a write for when Redis is back; counted and logged when the queue is full. */
  void queue(Supplier<CompletionStage<?>> call) {
    if (!replay.offer(call)) {
      dropped.increment();
      LOG.error("state: the replay queue is full ({}); a settlement or ledger record is lost for Redis",
          replayBound);
    }
  }

  private static Throwable cause(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof java.util.concurrent.CompletionException
        || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  static boolean isTimeout(Throwable failure) {
    Throwable c = cause(failure);
    return c instanceof io.lettuce.core.RedisCommandTimeoutException
        || c instanceof java.util.concurrent.TimeoutException;
  }

  /**
   * Counts a failed command. A timeout applies the policy to its own request only; a lost connection
   * (or errors Redis answers) marks the store down until the health check sees it answer again, so
   * later requests do not each wait for a timeout.
   */
  void failed(String op, Throwable failure) {
    errors.increment();
    Throwable cause = cause(failure);
    lastError = op + ": " + cause.getClass().getSimpleName() + (cause.getMessage() == null ? ""
        : " " + cause.getMessage());
    if (isTimeout(failure)) {
      LOG.debug("state: Redis command timed out ({})", lastError);
      return;
    }
    if (up) {
      LOG.warn("state: Redis at {} failed ({}); {} until it answers again", settings.redisTarget(), lastError,
          policy());
    }
    up = false;
  }

  /**
   * A best-effort command (the response cache's) failed: counted, and only a failure of the connection marks
   * the store down. An error reply (e.g. OOM under {@code maxmemory} with {@code noeviction}) says Redis is
   * there; it must not switch admission to its failOpen/failClosed policy.
   */
  void bestEffortFailed(String op, Throwable failure) {
    Throwable cause = cause(failure);
    if (cause instanceof io.lettuce.core.RedisCommandExecutionException) {
      errors.increment();
      LOG.debug("state: Redis refused a {} ({}: {})", op, cause.getClass().getSimpleName(), cause.getMessage());
      return;
    }
    failed(op, failure);
  }

  private String policy() {
    return settings.failOpen() ? "admitting with local limits" : "refusing keyed requests with 503";
  }

  /** Every second: is Redis back? Then replay what waited, in order. */
  void check() {
    try {
      redis.ping().toCompletableFuture().get(waitMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      boolean wasUp = up;
      failed("ping", e);
      up = false; // no answer to a ping within four timeouts: down, whatever the reason
      if (wasUp && isTimeout(e)) {
        LOG.warn("state: Redis at {} does not answer pings; {} until it does", settings.redisTarget(), policy());
      }
      return;
    }
    Supplier<CompletionStage<?>> next;
    int n = 0;
    while ((next = replay.peek()) != null) {
      try {
        next.get().toCompletableFuture().get(waitMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        failed("replay", e);
        return;
      }
      replay.poll();
      replayed.increment();
      n++;
    }
    if (!up) {
      LOG.info("state: Redis at {} answers again; {} queued writes replayed", settings.redisTarget(), n);
      lastError = null;
    }
    up = true;
  }

  /** Up (degraded while writes wait for replay), or down with the last error and the policy. */
  StateStore.Health health() {
    String e = lastError;
    if (up) {
      return new StateStore.Health(true, !replay.isEmpty(), "redis " + settings.redisTarget()
          + (replay.isEmpty() ? "" : ", replaying " + replay.size() + " queued writes"));
    }
    return new StateStore.Health(false, true, "redis " + settings.redisTarget() + " unavailable (" + e + "); "
        + (settings.failOpen() ? "admitting with local limits" : "refusing keyed requests"));
  }

  /** Stops the health check (first step of closing: the last writes are then sent by the caller). */
  void stopChecking() {
    checker.shutdownNow();
  }

  /**
   * Waits (bounded) for every write sent to be answered or queued, gives what waits one last replay
   * while Redis answers, logs what is lost, and closes the connection.
   */
  void close() {
    checker.shutdownNow();
    try { // every write sent, answered (or queued) before the connection closes
      CompletableFuture.allOf(inFlightWrites.toArray(CompletableFuture[]::new)).handle((r, f) -> null)
          .get(waitMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("state: {} writes to Redis still unanswered at shutdown", inFlightWrites.size());
    }
    if (up && !replay.isEmpty()) {
      check(); // a last chance for what waited
    }
    if (!replay.isEmpty()) {
      LOG.error("state: {} settlements or ledger records could not reach Redis before shutdown", replay.size());
    }
    bulkConnection.close();
    connection.close();
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
  }
}
