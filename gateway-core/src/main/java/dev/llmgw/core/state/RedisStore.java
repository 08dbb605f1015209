package dev.llmgw.core.state;

import dev.llmgw.core.config.Access;
import dev.llmgw.core.config.Economics;
import dev.llmgw.core.config.StateSettings;
import dev.llmgw.core.economics.CallerUsage;
import dev.llmgw.core.economics.Ledger;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.LocalDate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
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
 *
 * <p>The parts: {@link RedisLink} (the connection, up or down, the replay queue, the health check),
 * {@link RedisLeases} (admission from leased {@link Allowance}s and the policy while Redis is away),
 * {@link RedisFlusher} (the periodic write-back), {@link RedisUsage} (per-caller usage),
 * {@link RedisLedger} (the workflow ledger), {@link RedisAnswers} (the response cache's shared answers), {@link RedisKeys} (key names and run-once markers) and
 * {@link RedisScript} (the Lua scripts).
 */
public final class RedisStore implements StateStore {
  private static final Logger LOG = LoggerFactory.getLogger(RedisStore.class);
  /** How long a budget lease lives unless its gateway renews it (every flush does, while it holds any). */
  static final long LEASE_MILLIS = 30_000;
  /** How often settled spend and unused capacity are written back. */
  static final long FLUSH_MILLIS = 20;
  /** A lease unused this long goes back (so an idle gateway does not hold what others need). */
  static final long IDLE_RETURN_NANOS = 1_000_000_000L;

  private final RedisLink link;
  private final RedisKeys keys;
  private final RedisLeases leases;
  private final RedisUsage usage;
  private final RedisLedger ledger;
  private final RedisFlusher flusher;
  private final RedisAnswers answers;
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * Connects to Redis and loads the scripts.
   *
   * @throws IllegalStateException with the target (never the password) and the reason when Redis
   *     cannot be reached or refuses the connection
   */
  public RedisStore(StateSettings settings, Economics economics, Clock clock, MeterRegistry registry) {
    this.link = new RedisLink(settings, registry);
    this.keys = new RedisKeys(settings.prefix(), clock);
    this.leases = new RedisLeases(link, keys, new MemoryStore(economics, clock), registry);
    this.usage = new RedisUsage(link, keys, clock);
    this.ledger = new RedisLedger(link, settings.prefix(), economics);
    this.flusher = new RedisFlusher(link, keys, leases, usage);
    this.answers = new RedisAnswers(link, keys);
    flusher.start();
    LOG.info("state: redis store at {} (prefix {}, timeout {}, {})", settings.redisTarget(), settings.prefix(),
        settings.timeout(), settings.failOpen() ? "failOpen" : "failClosed");
  }

  @Override
  public String kind() {
    return "redis";
  }

  @Override
  public CompletableFuture<Grant> admit(Access.ApiKey key, Access.Team team, long tokens, long maxCostMicros) {
    return leases.admit(key, team, tokens, maxCostMicros);
  }

  @Override
  public boolean shouldDowngrade(Access.ApiKey key, Access.Team team) {
    return leases.shouldDowngrade(key, team);
  }

  /** Reads Redis (blocking, bounded by the timeout): admin output and tests only. */
  @Override
  public double spentUsd(String account) {
    int colon = account.indexOf(':');
    String kind = account.substring(0, colon);
    String name = account.substring(colon + 1);
    LocalDate today = keys.today();
    for (String period : List.of(today.toString(), RedisKeys.month(today))) {
      String v = link.sync().hget(keys.key("budget", kind, name, period), "spent");
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
  public CallerUsage usage() {
    return usage.deltas();
  }

  /** Reads the daily hashes every replica adds to (blocking, bounded by the timeout: admin only). */
  @Override
  public List<CallerUsage.Row> usageSince(LocalDate from) {
    return usage.since(from);
  }

  @Override
  public Health health() {
    return link.health();
  }

  /** The response cache's answers, shared by every replica ({@link RedisAnswers}). */
  @Override
  public dev.llmgw.core.cache.SharedAnswers sharedAnswers() {
    return answers;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    link.stopChecking();
    flusher.stop();
    flusher.flush(true); // spend and every lease go back before the connection closes
    link.close();
  }
}
