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
 * threads), without a round trip on most requests: each gateway leases capacity from Redis
 * ({@code lease.lua}, atomic for every resource a request needs — the key's requests and tokens per
 * minute, the hard budgets of the key and its team) and admits from its lease on the event loop. While
 * what is left covers fewer than 256 requests like this one, the lease is exactly the request's need,
 * so N gateways together admit exactly what the limit allows; with more room, a sixteenth of what is
 * left, so most requests never wait for Redis (a replica may then hold up to that sixteenth unused for
 * a second while another is refused at the very edge of the limit). What a
 * gateway spends moves from its lease to the spend, and what it no longer needs goes back, in
 * batches every {@value #FLUSH_MILLIS} ms ({@code account-flush.lua}, {@code bucket-return.lua}; once
 * each, so a replay after a lost answer adds nothing). Budget leases expire after
 * {@value #LEASE_MILLIS} ms unless renewed: a gateway that dies holds nothing for long.
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
  /** How long a budget lease lives unless its gateway renews it (every flush does, while it holds any). */
  static final long LEASE_MILLIS = 30_000;
  /** How often settled spend and unused capacity are written back. */
  static final long FLUSH_MILLIS = 20;
  /** A lease unused this long goes back (so an idle gateway does not hold what others need). */
  static final long IDLE_RETURN_NANOS = 1_000_000_000L;
  private static final int REPLAY_BOUND = 100_000;

  private final StateSettings settings;
  private final String prefix;
  private final RedisClient client;
  private final StatefulRedisConnection<String, String> connection;
  private final RedisAsyncCommands<String, String> redis;
  private final Script leaseScript = Script.load("lease.lua");
  private final Script flushScript = Script.load("account-flush.lua");
  private final Script returnScript = Script.load("bucket-return.lua");
  private final Script usageScript = Script.load("usage-add.lua");
  /** This process's per-caller deltas since the last flush (every replica adds its own). */
  private final dev.llmgw.core.economics.CallerUsage usageDeltas;
  /** What this gateway holds of each shared resource, by its Redis key. */
  private final Map<String, Allowance> allowances = new ConcurrentHashMap<>();
  private final ScheduledExecutorService flusher;
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
    this.usageDeltas = new dev.llmgw.core.economics.CallerUsage(clock);
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
    this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "gateway-state-flush");
      t.setDaemon(true);
      return t;
    });
    flusher.scheduleWithFixedDelay(() -> flush(false), FLUSH_MILLIS, FLUSH_MILLIS, TimeUnit.MILLISECONDS);
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

  /** What this gateway holds of one shared resource (a bucket or a budget account); guarded by itself. */
  static final class Allowance {
    final String key;
    final boolean budget;
    final String[] accountKeys; // budget: account, leases, lease expiries
    final long limit; // buckets: the per-minute limit
    final long expiryMillis; // budgets: how long the account outlives its period
    long available; // leased and not yet taken by a request
    long held; // budgets: what Redis counts as this gateway's lease
    long pendingSpent; // budgets: settled cost not yet written
    long pendingBack; // unused capacity to give back
    long remainingHint; // buckets: what Redis said was left after the last lease
    boolean tight; // the last lease was exactly the need: give leftovers back at once
    long lastUseNanos = System.nanoTime();
    long lastRenewNanos = System.nanoTime();
    /** Dropped from the map while empty and idle; whoever still holds it goes to the live one instead. */
    boolean retired;

    Allowance copy() {
      return new Allowance(key, budget, accountKeys, limit, expiryMillis);
    }

    Allowance(String key, boolean budget, String[] accountKeys, long limit, long expiryMillis) {
      this.key = key;
      this.budget = budget;
      this.accountKeys = accountKeys;
      this.limit = limit;
      this.expiryMillis = expiryMillis;
    }

    /** Gives back what a request took or did not use: kept here, or returned when near the limit. */
    void giveBack(long amount) {
      if (amount > 0 && tight) {
        pendingBack += amount;
      } else {
        available += amount;
      }
    }
  }

  /**
   * Runs {@code change} on the allowance under its lock — on the live one if {@code a} was retired
   * meanwhile (an idle, empty allowance leaves the map; a request admitted before may settle later).
   */
  private void change(Allowance a, java.util.function.Consumer<Allowance> change) {
    Allowance x = a;
    while (true) {
      synchronized (x) {
        if (!x.retired) {
          change.accept(x);
          return;
        }
      }
      Allowance retired = x;
      x = allowances.computeIfAbsent(retired.key, k -> retired.copy());
    }
  }

  private Allowance bucket(String key, long limit) {
    return allowances.computeIfAbsent(key, k -> new Allowance(k, false, null, limit, 0));
  }

  private Allowance account(String kind, String name, Access.Budget b) {
    String k = key("budget", kind, name, period(b));
    return allowances.computeIfAbsent(k, x -> new Allowance(x, true, new String[] {x, x + ":leases", x + ":expiries"},
        0, expiryMillis(b)));
  }

  @Override
  public CompletableFuture<Grant> admit(Access.ApiKey key, Access.Team team, long tokens, long maxCostMicros) {
    if (key == null) {
      return CompletableFuture.completedFuture(Grant.FREE);
    }
    Access.Budget kb = key.budget();
    Access.Budget tb = team == null ? null : team.budget();
    long rpm = key.requestsPerMinute();
    long tpm = key.tokensPerMinute();
    if (rpm == 0 && tpm == 0 && kb == null && tb == null) {
      return CompletableFuture.completedFuture(Grant.FREE);
    }
    if (!up && !settings.failOpen()) {
      refused.increment();
      return CompletableFuture.failedFuture(new StateUnavailableException("Redis: "
          + (lastError == null ? "down" : lastError)));
    }
    // the resources in a fixed order (requests, tokens, key budget, team budget): locks never cross
    Allowance[] res = {rpm > 0 ? bucket(key("rate", key.name(), "requests"), rpm) : null,
        tpm > 0 ? bucket(key("rate", key.name(), "tokens"), tpm) : null,
        kb != null ? account("key", key.name(), kb) : null,
        tb != null ? account("team", team.name(), tb) : null};
    long[] need = {1, tokens, maxCostMicros, maxCostMicros};
    boolean[] taken = new boolean[4];
    boolean all = true;
    long now = System.nanoTime();
    for (int i = 0; i < 4; i++) {
      Allowance a = res[i];
      if (a == null) {
        taken[i] = true;
        continue;
      }
      synchronized (a) {
        a.lastUseNanos = now;
        if (!a.retired && a.available >= need[i]) {
          a.available -= need[i];
          taken[i] = true;
        } else {
          all = false;
        }
      }
    }
    if (all) {
      return CompletableFuture.completedFuture(granted(key, res, need, tokens, maxCostMicros));
    }
    if (!up) {
      giveBack(res, need, taken);
      return unavailable(key, team, tokens, maxCostMicros, lastError);
    }
    String[] keys = {res[0] == null ? key("rate", key.name(), "requests") : res[0].key,
        res[1] == null ? key("rate", key.name(), "tokens") : res[1].key,
        res[2] == null ? "" : res[2].accountKeys[0], res[2] == null ? "" : res[2].accountKeys[1],
        res[2] == null ? "" : res[2].accountKeys[2], res[3] == null ? "" : res[3].accountKeys[0],
        res[3] == null ? "" : res[3].accountKeys[1], res[3] == null ? "" : res[3].accountKeys[2]};
    long expiry = Math.max(kb == null ? 0 : expiryMillis(kb), tb == null ? 0 : expiryMillis(tb));
    String[] args = {Long.toString(rpm), taken[0] ? "0" : "1", Long.toString(tpm),
        taken[1] ? "0" : Long.toString(Math.max(1, tokens)), taken[2] ? "" : hard(kb), Long.toString(maxCostMicros),
        taken[3] ? "" : hard(tb), Long.toString(maxCostMicros), instance, Long.toString(LEASE_MILLIS),
        Long.toString(expiry)};
    CompletableFuture<Grant> out = new CompletableFuture<>();
    leaseScript.<List<Object>>run(redis, ScriptOutputType.MULTI, keys, args).whenComplete((r, failure) -> {
      if (failure != null) {
        giveBack(res, need, taken);
        failed("lease", failure); // a lease granted after the answer was given up expires unused
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
        out.complete(leased(key, res, need, taken, tokens, maxCostMicros, r));
      } catch (RuntimeException e) {
        out.completeExceptionally(e);
      }
    });
    return out;
  }

  private void giveBack(Allowance[] res, long[] need, boolean[] taken) {
    for (int i = 0; i < res.length; i++) {
      if (res[i] != null && taken[i]) {
        long n = need[i];
        change(res[i], a -> a.available += n);
      }
    }
  }

  private Grant leased(Access.ApiKey key, Allowance[] res, long[] need, boolean[] taken, long tokens, long micros,
      List<Object> r) {
    long code = (Long) r.get(0);
    if (res[2] != null) {
      view(res[2].key, (Long) r.get(8));
    }
    if (res[3] != null) {
      view(res[3].key, (Long) r.get(9));
    }
    if (code != 0) {
      giveBack(res, need, taken);
      long retry = (Long) r.get(1);
      RateLimits.Admission rate = figures(key, res, false);
      if (code == 1 || code == 2) {
        return new Grant(false, rate, code == 1 ? "requests" : "tokens", retry, null, 0, Settlement.NONE);
      }
      return new Grant(false, rate, null, 0, code == 3 ? "key" : "team", 0, Settlement.NONE);
    }
    for (int i = 0; i < 4; i++) {
      Allowance a = res[i];
      if (a == null || taken[i]) {
        continue;
      }
      long granted = (Long) r.get(2 + i);
      long n = need[i];
      long hint = (Long) r.get(i == 0 ? 6 : 7);
      change(a, x -> {
        x.available += granted - n;
        x.tight = granted == n;
        if (x.budget) {
          x.held += granted;
        } else {
          x.remainingHint = hint;
        }
      });
    }
    return granted(key, res, need, tokens, micros);
  }

  /** The rate-limit figures as far as this gateway knows them (Redis's last word plus its own lease). */
  private static RateLimits.Admission figures(Access.ApiKey key, Allowance[] res, boolean allowed) {
    long rpm = key.requestsPerMinute();
    long tpm = key.tokensPerMinute();
    if (rpm == 0 && tpm == 0) {
      return null;
    }
    long remR = remaining(res[0]);
    long remT = remaining(res[1]);
    return new RateLimits.Admission(allowed, 0, null, rpm, remR, resetMillis(rpm, remR), tpm, remT,
        resetMillis(tpm, remT), null, 0);
  }

  private static long remaining(Allowance a) {
    if (a == null) {
      return 0;
    }
    synchronized (a) {
      return Math.max(0, Math.min(a.limit, a.remainingHint + a.available));
    }
  }

  private static long resetMillis(long limit, long remaining) {
    return limit <= 0 ? 0 : (limit - remaining) * 60_000 / limit;
  }

  private Grant granted(Access.ApiKey key, Allowance[] res, long[] need, long tokens, long micros) {
    RateLimits.Admission rate = figures(key, res, true);
    if (res[1] == null && res[2] == null && res[3] == null) {
      return new Grant(true, rate, null, 0, null, 0, Settlement.NONE); // requests only: nothing to correct later
    }
    java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
    return new Grant(true, rate, null, 0, null, micros, (used, actual) -> {
      if (!once.compareAndSet(false, true)) {
        return;
      }
      if (res[1] != null) {
        change(res[1], a -> a.giveBack(need[1] - used));
      }
      long cost = actual < 0 ? micros : actual; // unknown price: the reservation counts as spent
      for (int i = 2; i < 4; i++) {
        if (res[i] != null) {
          change(res[i], a -> {
            a.pendingSpent += cost;
            a.giveBack(micros - cost);
          });
        }
      }
    });
  }

  /** Writes settled spend and gives back what is not needed; renews held budget leases; adds usage. */
  private void flush(boolean closing) {
    long now = System.nanoTime();
    List<dev.llmgw.core.economics.CallerUsage.Row> rows = usageDeltas.drain();
    if (!rows.isEmpty()) {
      List<String> args = new java.util.ArrayList<>(1 + rows.size() * 7);
      args.add(Long.toString(java.time.Duration.ofDays(dev.llmgw.core.economics.CallerUsage.DAYS_KEPT + 1).toMillis()));
      for (dev.llmgw.core.economics.CallerUsage.Row r : rows) {
        args.add(key("usage", r.day().toString()));
        args.add(r.kind() + "|" + r.name());
        args.add(Long.toString(r.requests()));
        args.add(Double.toString(r.cost()));
        args.add(Long.toString(r.unpriced()));
        args.add(Double.toString(r.comparedCost()));
        args.add(Double.toString(r.baselineCost()));
      }
      String[] keys = {key("done", instance + "-" + sequence.incrementAndGet())};
      String[] argv = args.toArray(String[]::new);
      Supplier<CompletionStage<?>> call = () -> usageScript.run(redis, ScriptOutputType.INTEGER, keys, argv);
      send(call, "usage");
    }
    for (Allowance a : allowances.values()) {
      long spent;
      long back;
      boolean renew;
      synchronized (a) {
        if (a.available > 0 && (closing || now - a.lastUseNanos > IDLE_RETURN_NANOS)) {
          a.pendingBack += a.available;
          a.available = 0;
        }
        spent = a.pendingSpent;
        back = a.pendingBack;
        renew = a.budget && a.held > 0 && now - a.lastRenewNanos > TimeUnit.MILLISECONDS.toNanos(LEASE_MILLIS / 3);
        if (spent == 0 && back == 0 && !renew) {
          if (!closing && a.available == 0 && a.held == 0
              && now - a.lastUseNanos > TimeUnit.MINUTES.toNanos(2)) {
            a.retired = true; // under its lock: a late settlement goes to a new, live one (change())
            allowances.remove(a.key, a);
          }
          continue;
        }
        a.pendingSpent = 0;
        a.pendingBack = 0;
        if (a.budget) {
          a.held = Math.max(0, a.held - spent - back);
          a.lastRenewNanos = now;
        }
      }
      String marker = key("done", instance + "-" + sequence.incrementAndGet());
      Supplier<CompletionStage<?>> call;
      if (a.budget) {
        String[] keys = {a.accountKeys[0], a.accountKeys[1], a.accountKeys[2], marker};
        String[] args = {instance, Long.toString(spent), Long.toString(back), Long.toString(LEASE_MILLIS),
            Long.toString(a.expiryMillis)};
        call = () -> flushScript.<Long>run(redis, ScriptOutputType.INTEGER, keys, args)
            .thenAccept(used -> view(a.key, used));
      } else {
        String[] keys = {a.key, marker};
        String[] args = {Long.toString(a.limit), Long.toString(back)};
        call = () -> returnScript.run(redis, ScriptOutputType.INTEGER, keys, args);
      }
      send(call, "flush");
    }
  }

  /** Writes still waiting for Redis's answer (close waits for them before it closes the connection). */
  private final java.util.Set<CompletableFuture<?>> inFlightWrites = ConcurrentHashMap.newKeySet();

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

  private void view(String account, long used) {
    if (used >= 0) {
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
    Access.Budget kb = key.budget();
    Access.Budget tb = team == null ? null : team.budget();
    if (!g.allowed() || (kb == null && tb == null)) {
      return CompletableFuture.completedFuture(g);
    }
    Settlement localSettlement = g.settlement();
    Allowance ka = kb == null ? null : account("key", key.name(), kb);
    Allowance ta = tb == null ? null : account("team", team.name(), tb);
    return CompletableFuture.completedFuture(new Grant(true, g.rate(), null, 0, null, g.reservedMicros(),
        (used, actual) -> {
          localSettlement.settle(used, actual);
          long cost = actual < 0 ? g.reservedMicros() : actual;
          // spent while Redis was away still counts there: written (or queued) by the next flush
          for (Allowance a : new Allowance[] {ka, ta}) {
            if (a != null) {
              change(a, x -> x.pendingSpent += cost);
            }
          }
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
  public dev.llmgw.core.economics.CallerUsage usage() {
    return usageDeltas;
  }

  /** Reads the daily hashes every replica adds to (blocking, bounded by the timeout: admin only). */
  @Override
  public List<dev.llmgw.core.economics.CallerUsage.Row> usageSince(LocalDate from) {
    LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
    LocalDate first = from.isBefore(today.minusDays(dev.llmgw.core.economics.CallerUsage.DAYS_KEPT))
        ? today.minusDays(dev.llmgw.core.economics.CallerUsage.DAYS_KEPT) : from;
    List<dev.llmgw.core.economics.CallerUsage.Row> out = new java.util.ArrayList<>();
    for (LocalDate d = first; !d.isAfter(today); d = d.plusDays(1)) {
      Map<String, String> h;
      try {
        h = connection.sync().hgetall(key("usage", d.toString()));
      } catch (RedisException e) {
        failed("usage read", e);
        throw new StateUnavailableException("Redis: usage read failed");
      }
      Map<String, double[]> byCaller = new java.util.TreeMap<>();
      h.forEach((field, value) -> {
        int cut = field.lastIndexOf('|');
        double[] v = byCaller.computeIfAbsent(field.substring(0, cut), k -> new double[5]);
        int at = switch (field.substring(cut + 1)) {
          case "requests" -> 0;
          case "cost" -> 1;
          case "unpriced" -> 2;
          case "compared" -> 3;
          default -> 4;
        };
        v[at] = Double.parseDouble(value);
      });
      for (Map.Entry<String, double[]> e : byCaller.entrySet()) {
        int bar = e.getKey().indexOf('|');
        double[] v = e.getValue();
        out.add(new dev.llmgw.core.economics.CallerUsage.Row(d, e.getKey().substring(0, bar),
            e.getKey().substring(bar + 1), (long) v[0], v[1], (long) v[2], v[3], v[4]));
      }
    }
    return out;
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
    flusher.shutdownNow();
    try {
      flusher.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    flush(true); // spend and every lease go back before the connection closes
    try { // every write sent, answered (or queued) before the connection closes
      CompletableFuture.allOf(inFlightWrites.toArray(CompletableFuture[]::new)).handle((r, f) -> null)
          .get(settings.timeout().toMillis() * 4, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("state: {} writes to Redis still unanswered at shutdown", inFlightWrites.size());
    }
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
