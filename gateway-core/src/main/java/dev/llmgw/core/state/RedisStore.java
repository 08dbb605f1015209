package dev.llmgw.core.state;

import dev.llmgw.core.access.RateLimits;
import dev.llmgw.core.config.Access;
import dev.llmgw.core.config.Economics;
import dev.llmgw.core.config.StateSettings;
import dev.llmgw.core.economics.Ledger;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Money and limits in Redis, shared by every gateway replica (Lettuce, asynchronous, on its own Netty
 * threads). Admission and settlement are one server-side script each ({@code admit.lua},
 * {@code settle.lua}): the rate windows of a key and the budgets of the key and its team are checked
 * and reserved atomically, so N gateways hold one limit and one budget between them. A reservation is
 * a lease: if the gateway holding it dies, Redis releases it when the lease ends. A settlement runs
 * once (a marker key), so one replayed after a lost answer is not counted twice.
 *
 * <p>When Redis cannot answer (down, timeout, errors), the configured policy applies at once, without
 * waiting for a timeout per request: {@code failOpen} admits with this process's own limits (a
 * {@link MemoryStore}) and queues what it settles for Redis; {@code failClosed} refuses keyed requests
 * with 503 {@code state_unavailable}. A health check every second reconnects and replays the queue
 * (bounded; what does not fit is counted and logged, never dropped silently).
 *
 * <p>Standalone Redis (or Sentinel): the scripts touch keys they compute (ledger eviction), so Redis
 * Cluster is not supported.
 */
public final class RedisStore implements StateStore {
  private static final Logger LOG = LoggerFactory.getLogger(RedisStore.class);
  /** How long a reservation lives if its gateway never settles it (a stream may last 10 minutes). */
  static final Duration LEASE = Duration.ofMinutes(15);
  private static final int REPLAY_BOUND = 100_000;

  private final StateSettings settings;
  private final String prefix;
  private final RedisClient client;
  private final StatefulRedisConnection<String, String> connection;
  private final RedisAsyncCommands<String, String> redis;
  private final Script admitScript = Script.load("admit.lua");
  private final Script settleScript = Script.load("settle.lua");
  private final MemoryStore local;
  private final RedisLedger ledger;
  private final Clock clock;
  private final String instance = UUID.randomUUID().toString().substring(0, 8);
  private final AtomicLong sequence = new AtomicLong();
  /** Spent + reserved per account and period as Redis last said (soft budgets read it). */
  private final Map<String, Long> usedView = new ConcurrentHashMap<>();
  private final ArrayBlockingQueue<Supplier<CompletionStage<?>>> replay = new ArrayBlockingQueue<>(REPLAY_BOUND);
  private final ScheduledExecutorService checker;
  private final Counter errors;
  private final Counter localAdmissions;
  private final Counter refused;
  private final Counter dropped;
  private final Counter replayed;
  private volatile boolean up = true;
  private volatile String lastError;

  /**
   * Connects to Redis and loads the scripts.
   *
   * @throws IllegalStateException with the target (never the password) and the reason when Redis
   *     cannot be reached or refuses the connection
   */
  public RedisStore(StateSettings settings, Economics economics, Clock clock, MeterRegistry registry) {
    this.settings = settings;
    this.prefix = settings.prefix();
    this.clock = clock;
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
    try {
      this.connection = client.connect();
      connection.sync().ping();
    } catch (RedisException e) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
      throw new IllegalStateException("cannot use Redis at " + settings.redisTarget() + " (state.redis.url): "
          + rootMessage(e), e);
    }
    this.redis = connection.async();
    this.local = new MemoryStore(economics, clock);
    this.ledger = new RedisLedger(connection, prefix, economics, this);
    this.errors = Counter.builder("gateway.state.errors").description("Redis commands that failed or timed out")
        .tag("store", "redis").register(registry);
    this.localAdmissions = Counter.builder("gateway.state.local.admissions")
        .description("Requests admitted with this process's own limits while Redis could not answer (failOpen)")
        .register(registry);
    this.refused = Counter.builder("gateway.state.refused")
        .description("Keyed requests refused with 503 while Redis could not answer (failClosed)").register(registry);
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
    LOG.info("state: redis store at {} (prefix {}, timeout {}, {})", settings.redisTarget(), prefix,
        settings.timeout(), settings.failOpen() ? "failOpen" : "failClosed");
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + ": " + t.getMessage();
  }

  @Override
  public String kind() {
    return "redis";
  }

  String key(String... parts) {
    return prefix + String.join(":", parts);
  }

  private String period(Access.Budget b) {
    LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
    return b.period() == Access.Period.DAY ? today.toString() : today.withDayOfMonth(1).toString().substring(0, 7);
  }

  private static long expiryMillis(Access.Budget b) {
    return b.period() == Access.Period.DAY ? Duration.ofDays(3).toMillis() : Duration.ofDays(62).toMillis();
  }

  private static String hard(Access.Budget b) {
    return b == null ? "" : Double.isNaN(b.hard()) ? "-1" : Long.toString(Math.round(b.hard() * 1_000_000));
  }

  @Override
  public CompletableFuture<Grant> admit(Access.ApiKey key, Access.Team team, long tokens, long maxCostMicros) {
    if (key == null) {
      return CompletableFuture.completedFuture(Grant.FREE);
    }
    Access.Budget kb = key.budget();
    Access.Budget tb = team == null ? null : team.budget();
    if (key.requestsPerMinute() == 0 && key.tokensPerMinute() == 0 && kb == null && tb == null) {
      return CompletableFuture.completedFuture(Grant.FREE);
    }
    if (!up) {
      return unavailable(key, team, tokens, maxCostMicros, lastError);
    }
    String accA = kb == null ? "" : key("budget", "key", key.name(), period(kb));
    String accB = tb == null ? "" : key("budget", "team", team.name(), period(tb));
    long expiry = Math.max(kb == null ? 0 : expiryMillis(kb), tb == null ? 0 : expiryMillis(tb));
    String member = instance + "-" + sequence.incrementAndGet();
    String[] keys = {key("rate", key.name(), "requests"), key("rate", key.name(), "tokens"), accA, accA + ":res",
        accB, accB + ":res"};
    String[] args = {Long.toString(key.requestsPerMinute()), Long.toString(key.tokensPerMinute()),
        Long.toString(tokens), Long.toString(maxCostMicros), hard(kb), hard(tb), member,
        Long.toString(LEASE.toMillis()), Long.toString(expiry)};
    CompletableFuture<Grant> out = new CompletableFuture<>();
    admitScript.<List<Object>>run(redis, ScriptOutputType.MULTI, keys, args).whenComplete((r, failure) -> {
      if (failure != null) {
        failed("admit", failure);
        if (isTimeout(failure)) {
          // the script may still run after the answer was given up: release what it would have taken
          // (settle.lua runs after it on this connection, once; tokens and money come back)
          String[] releaseKeys = {keys[1], accA, accA + ":res", accB, accB + ":res", key("settled", member)};
          String[] releaseArgs = {Long.toString(key.tokensPerMinute()), Long.toString(tokens),
              member + ":" + maxCostMicros, Long.toString(maxCostMicros), "0", kb == null ? "" : "1",
              tb == null ? "" : "1", Long.toString(Math.max(expiry, 60_000))};
          settle(releaseKeys, releaseArgs, accA, kb, accB, tb);
        }
        unavailable(key, team, tokens, maxCostMicros, lastError).whenComplete((g, f) -> {
          if (f != null) {
            out.completeExceptionally(f);
          } else {
            out.complete(g);
          }
        });
        return;
      }
      try {
        out.complete(grant(key, kb, tb, accA, accB, tokens, maxCostMicros, member, expiry, r));
      } catch (RuntimeException e) {
        out.completeExceptionally(e);
      }
    });
    return out;
  }

  private Grant grant(Access.ApiKey key, Access.Budget kb, Access.Budget tb, String accA, String accB, long tokens,
      long micros, String member, long expiry, List<Object> r) {
    long code = (Long) r.get(0);
    long rpm = key.requestsPerMinute();
    long tpm = key.tokensPerMinute();
    RateLimits.Admission rate = rpm == 0 && tpm == 0 ? null : new RateLimits.Admission(code == 0, (Long) r.get(1),
        code == 1 ? "requests" : code == 2 ? "tokens" : null, rpm, (Long) r.get(2), (Long) r.get(3), tpm,
        (Long) r.get(4), (Long) r.get(5), null, 0);
    if (code == 1 || code == 2) {
      return new Grant(false, rate, code == 1 ? "requests" : "tokens", (Long) r.get(1), null, 0, Settlement.NONE);
    }
    if (code == 3 || code == 4) {
      return new Grant(false, rate, null, 0, code == 3 ? "key" : "team", 0, Settlement.NONE);
    }
    view(accA, kb, (Long) r.get(6));
    view(accB, tb, (Long) r.get(7));
    if (tpm == 0 && kb == null && tb == null) {
      return new Grant(true, rate, null, 0, null, 0, Settlement.NONE); // nothing to correct afterwards
    }
    String[] keys = {key("rate", key.name(), "tokens"), accA, accA + ":res", accB, accB + ":res",
        key("settled", member)};
    return new Grant(true, rate, null, 0, null, micros, (used, actual) -> {
      long delta = tpm > 0 ? tokens - used : 0;
      String[] args = {Long.toString(tpm), Long.toString(delta), member + ":" + micros, Long.toString(micros),
          Long.toString(actual < 0 ? micros : actual), kb == null ? "" : "1", tb == null ? "" : "1",
          Long.toString(expiry)};
      settle(keys, args, accA, kb, accB, tb);
    });
  }

  private void settle(String[] keys, String[] args, String accA, Access.Budget kb, String accB, Access.Budget tb) {
    Supplier<CompletionStage<?>> call = () -> settleScript.<List<Object>>run(redis, ScriptOutputType.MULTI, keys,
        args).thenAccept(r -> {
          view(accA, kb, (Long) r.get(0));
          view(accB, tb, (Long) r.get(1));
        });
    if (!up) {
      queue(call);
      return;
    }
    call.get().whenComplete((r, failure) -> {
      if (failure != null) {
        failed("settle", failure);
        queue(call); // settle.lua runs once per settlement: a replay after a lost answer adds nothing
      }
    });
  }

  private void view(String account, Access.Budget b, long used) {
    if (b != null && used >= 0) {
      usedView.put(account, used);
    }
  }

  /** Redis cannot answer: this process's own limits (failOpen), or 503 (failClosed). */
  private CompletableFuture<Grant> unavailable(Access.ApiKey key, Access.Team team, long tokens, long micros,
      String why) {
    if (!settings.failOpen()) {
      refused.increment();
      return CompletableFuture.failedFuture(new StateUnavailableException("Redis: " + (why == null ? "down" : why)));
    }
    localAdmissions.increment();
    Grant g = local.admitNow(key, team, tokens, micros);
    if (!g.allowed() || g.settlement() == Settlement.NONE) {
      return CompletableFuture.completedFuture(g);
    }
    Access.Budget kb = key.budget();
    Access.Budget tb = team == null ? null : team.budget();
    Settlement localSettlement = g.settlement();
    return CompletableFuture.completedFuture(new Grant(true, g.rate(), null, 0, null, g.reservedMicros(),
        (used, actual) -> {
          localSettlement.settle(used, actual);
          if (kb == null && tb == null) {
            return;
          }
          // what was spent while Redis was away still counts there: added to the shared spend
          String accA = kb == null ? "" : key("budget", "key", key.name(), period(kb));
          String accB = tb == null ? "" : key("budget", "team", team.name(), period(tb));
          long expiry = Math.max(kb == null ? 0 : expiryMillis(kb), tb == null ? 0 : expiryMillis(tb));
          String member = instance + "-" + sequence.incrementAndGet();
          String[] keys = {key("rate", key.name(), "tokens"), accA, accA + ":res", accB, accB + ":res",
              key("settled", member)};
          String[] args = {"0", "0", "", "0", Long.toString(actual < 0 ? g.reservedMicros() : actual),
              kb == null ? "" : "1", tb == null ? "" : "1", Long.toString(expiry)};
          settle(keys, args, accA, kb, accB, tb);
        }));
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
          settings.failOpen() ? "admitting with local limits" : "refusing keyed requests with 503");
    }
    up = false;
  }

  /** Keeps a write for when Redis is back; counted and logged when the queue is full. */
  void queue(Supplier<CompletionStage<?>> call) {
    if (!replay.offer(call)) {
      dropped.increment();
      LOG.error("state: the replay queue is full ({}); a settlement or ledger record is lost for Redis",
          REPLAY_BOUND);
    }
  }

  boolean isUp() {
    return up;
  }

  /** Every second: is Redis back? Then replay what waited, in order. */
  private void check() {
    try {
      redis.ping().toCompletableFuture().get(settings.timeout().toMillis() * 4, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      boolean wasUp = up;
      failed("ping", e);
      up = false; // no answer to a ping within four timeouts: down, whatever the reason
      if (wasUp && isTimeout(e)) {
        LOG.warn("state: Redis at {} does not answer pings; {} until it does", settings.redisTarget(),
            settings.failOpen() ? "admitting with local limits" : "refusing keyed requests with 503");
      }
      return;
    }
    Supplier<CompletionStage<?>> next;
    int n = 0;
    while ((next = replay.peek()) != null) {
      try {
        next.get().toCompletableFuture().get(settings.timeout().toMillis() * 4, TimeUnit.MILLISECONDS);
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

  @Override
  public boolean shouldDowngrade(Access.ApiKey key, Access.Team team) {
    if (!up) {
      return local.shouldDowngrade(key, team);
    }
    return soft(key == null ? null : key.budget(), key == null ? null : "key", key == null ? null : key.name())
        || soft(team == null ? null : team.budget(), "team", team == null ? null : team.name());
  }

  private boolean soft(Access.Budget b, String kind, String name) {
    if (b == null || !b.downgrade() || Double.isNaN(b.soft())) {
      return false;
    }
    Long used = usedView.get(key("budget", kind, name, period(b)));
    return used != null && used >= Math.round(b.soft() * 1_000_000);
  }

  /** Reads Redis (blocking, bounded by the timeout): admin output and tests only. */
  @Override
  public double spentUsd(String account) {
    int colon = account.indexOf(':');
    String kind = account.substring(0, colon);
    String name = account.substring(colon + 1);
    for (String period : List.of(LocalDate.now(clock.withZone(ZoneOffset.UTC)).toString(),
        LocalDate.now(clock.withZone(ZoneOffset.UTC)).withDayOfMonth(1).toString().substring(0, 7))) {
      String v = connection.sync().hget(key("budget", kind, name, period), "spent");
      if (v != null) {
        return Long.parseLong(v) / 1_000_000.0;
      }
    }
    return 0;
  }

  @Override
  public Ledger ledger() {
    return ledger;
  }

  @Override
  public Health health() {
    String e = lastError;
    if (up) {
      return new Health(true, !replay.isEmpty(), "redis " + settings.redisTarget()
          + (replay.isEmpty() ? "" : ", replaying " + replay.size() + " queued writes"));
    }
    return new Health(false, true, "redis " + settings.redisTarget() + " unavailable (" + e + "); "
        + (settings.failOpen() ? "admitting with local limits" : "refusing keyed requests"));
  }

  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    checker.shutdownNow();
    if (up && !replay.isEmpty()) {
      check(); // a last chance for what waited
    }
    if (!replay.isEmpty()) {
      LOG.error("state: {} settlements or ledger records could not reach Redis before shutdown", replay.size());
    }
    connection.close();
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
  }

  /** A Lua script run by its SHA-1, sent whole when Redis does not know it (first use, after a restart). */
  record Script(String body, String sha) {
    static Script load(String name) {
      try (InputStream in = RedisStore.class.getResourceAsStream(name)) {
        if (in == null) {
          throw new IllegalStateException("missing resource " + name);
        }
        String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        return new Script(body, sha1(body));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private static String sha1(String s) {
      try {
        byte[] d = java.security.MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8));
        return java.util.HexFormat.of().formatHex(d);
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    <T> CompletableFuture<T> run(RedisAsyncCommands<String, String> redis, ScriptOutputType type, String[] keys,
        String[] args) {
      CompletableFuture<T> out = new CompletableFuture<>();
      redis.<T>evalsha(sha, type, keys, args).whenComplete((r, failure) -> {
        if (failure instanceof RedisNoScriptException
            || failure != null && String.valueOf(failure.getMessage()).startsWith("NOSCRIPT")) {
          redis.<T>eval(body, type, keys, args).whenComplete((r2, f2) -> {
            if (f2 != null) {
              out.completeExceptionally(f2);
            } else {
              out.complete(r2);
            }
          });
        } else if (failure != null) {
          out.completeExceptionally(failure);
        } else {
          out.complete(r);
        }
      });
      return out;
    }
  }
}
