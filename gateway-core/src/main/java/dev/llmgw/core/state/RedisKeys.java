package dev.llmgw.core.state;

import dev.llmgw.core.config.Access;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The names of the Redis store's keys ({@code <prefix>rate:<key>:requests},
 * {@code <prefix>budget:<kind>:<name>:<period>}, {@code <prefix>usage:<day>}, ...) and of this
 * process's run-once markers ({@code <prefix>done:<instance>-<n>}). Every write of settled spend,
 * returned capacity or usage takes its marker here, so no two writes of one process share one (a
 * shared marker would make Redis skip the second as already done). Thread-safe.
 */
final class RedisKeys {
  private final String prefix;
  private final Clock clock;
  /** This process among the replicas: the owner of its leases and of its markers. */
  private final String instance = UUID.randomUUID().toString().substring(0, 8);
  private final AtomicLong sequence = new AtomicLong();

  RedisKeys(String prefix, Clock clock) {
    this.prefix = prefix;
    this.clock = clock;
  }

  String instance() {
    return instance;
  }

  /** {@code <prefix>part:part:...}. */
  String key(String... parts) {
    return prefix + String.join(":", parts);
  }

  /** A new run-once marker for one write (the scripts set it; a replay of the write then adds nothing). */
  String marker() {
    return key("done", instance + "-" + sequence.incrementAndGet());
  }

  /** The budget account of a key or team ({@code kind} {@code key} or {@code team}) for today's period. */
  String budget(String kind, String name, Access.Budget b) {
    return key("budget", kind, name, period(b));
  }

  /** Today's period of a budget in UTC: {@code 2025-01-31} (daily) or {@code 2025-01} (monthly). */
  String period(Access.Budget b) {
    LocalDate today = today();
    return b.period() == Access.Period.DAY ? today.toString() : month(today);
  }

  LocalDate today() {
    return LocalDate.now(clock.withZone(ZoneOffset.UTC));
  }

  static String month(LocalDate day) {
    return day.withDayOfMonth(1).toString().substring(0, 7);
  }

  /** How long a budget account outlives its period's start in Redis (then Redis drops it). */
  static long expiryMillis(Access.Budget b) {
    return b.period() == Access.Period.DAY ? Duration.ofDays(3).toMillis() : Duration.ofDays(62).toMillis();
  }

  /** A hard limit as the lease script takes it: micro-dollars, {@code -1} none, {@code ""} no budget. */
  static String hard(Access.Budget b) {
    return b == null ? "" : Double.isNaN(b.hard()) ? "-1" : Long.toString(Math.round(b.hard() * 1_000_000));
  }
}
