package dev.llmgw.core.economics;

import dev.llmgw.core.log.RequestLog;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * What every request cost per key and per team, per UTC day, workflow or not: requests, cost (failed
 * attempts' estimates included), what the same tokens would have cost on the baseline model, how
 * many requests had no price, and how many were answered from the response cache with the money that saved. Feeds the economics report's {@code byKey} and {@code byTeam}. Keys and
 * teams come from the key file (bounded); requests without a key count as {@code anonymous}.
 *
 * <p>Kept in memory here (thread-safe, {@link #add} never blocks); the embedded store persists the
 * rows it is told about, the Redis store adds this process's deltas to Redis and reads the sum of
 * every replica.
 */
public class CallerUsage {
  /** Totals of one caller on one day. */
  public record Row(LocalDate day, String kind, String name, long requests, double cost, long unpriced,
      double comparedCost, double baselineCost, long cacheHits, double cacheSaved) {

    /** A row without cache figures (rows written before the cache existed). */
    public Row(LocalDate day, String kind, String name, long requests, double cost, long unpriced,
        double comparedCost, double baselineCost) {
      this(day, kind, name, requests, cost, unpriced, comparedCost, baselineCost, 0, 0);
    }

    /** What routing saved on the requests whose baseline is known. */
    public double savings() {
      return baselineCost - comparedCost;
    }

    Row plus(Row o) {
      return new Row(day, kind, name, requests + o.requests, cost + o.cost, unpriced + o.unpriced,
          comparedCost + o.comparedCost, baselineCost + o.baselineCost, cacheHits + o.cacheHits,
          cacheSaved + o.cacheSaved);
    }
  }

  /** Days kept (the report's window cannot go further back). */
  public static final int DAYS_KEPT = 35;

  /** Which caller on which day: the map key (no string built per request). */
  public record Key(LocalDate day, String kind, String name) {
    /** {@code day|kind|name}: the key as the embedded store writes it. */
    public String id() {
      return CallerUsage.id(day, kind, name);
    }
  }

  private final Map<Key, Row> rows = new ConcurrentHashMap<>();
  /** Today (UTC) and the epoch day it was computed for: one LocalDate a day, not one per request. */
  private volatile LocalDate today = LocalDate.EPOCH;
  private final Clock clock;
  private final Consumer<Row> changed;

  public CallerUsage(Clock clock) {
    this(clock, r -> { });
  }

  /** @param changed hears each row after it changed (on the request's thread: must not block) */
  public CallerUsage(Clock clock, Consumer<Row> changed) {
    this.clock = clock;
    this.changed = changed;
  }

  public static String id(LocalDate day, String kind, String name) {
    return day + "|" + kind + "|" + name;
  }

  /** Counts a finished API request for its key and its team. */
  public void add(RequestLog log) {
    if (log.endpoint() == null) {
      return; // not an API request (health, metrics, admin)
    }
    LocalDate day = today();
    boolean priced = !Double.isNaN(log.cost());
    boolean compared = priced && !Double.isNaN(log.baselineCost());
    boolean unpriced = !priced && log.promptTokens() >= 0;
    long hit = log.cacheHit() ? 1 : 0;
    double saved = log.cacheHit() && !Double.isNaN(log.cacheSaved()) ? log.cacheSaved() : 0;
    add(new Row(day, "key", log.keyName() == null ? "anonymous" : log.keyName(), 1, priced ? log.cost() : 0,
        unpriced ? 1 : 0, compared ? log.cost() : 0, compared ? log.baselineCost() : 0, hit, saved));
    if (log.team() != null) {
      add(new Row(day, "team", log.team(), 1, priced ? log.cost() : 0, unpriced ? 1 : 0, compared ? log.cost() : 0,
          compared ? log.baselineCost() : 0, hit, saved));
    }
  }

  private LocalDate today() {
    long epochDay = Math.floorDiv(clock.millis(), 86_400_000L);
    LocalDate d = today;
    if (d.toEpochDay() != epochDay) {
      d = LocalDate.ofEpochDay(epochDay);
      today = d;
    }
    return d;
  }

  /** Adds a delta (or a row read back from a store). */
  public void add(Row delta) {
    Row r = rows.merge(new Key(delta.day(), delta.kind(), delta.name()), delta, Row::plus);
    changed.accept(r);
  }

  /** Every row from {@code from} (UTC day) on, oldest first; rows older than {@link #DAYS_KEPT} leave. */
  public List<Row> since(LocalDate from) {
    LocalDate oldest = LocalDate.now(clock.withZone(ZoneOffset.UTC)).minusDays(DAYS_KEPT);
    rows.values().removeIf(r -> r.day().isBefore(oldest));
    List<Row> out = new ArrayList<>();
    for (Row r : rows.values()) {
      if (!r.day().isBefore(from)) {
        out.add(r);
      }
    }
    out.sort(java.util.Comparator.comparing(Row::day).thenComparing(Row::kind).thenComparing(Row::name));
    return out;
  }

  /** The current totals of one caller and day, or null. */
  public Row get(Key key) {
    return rows.get(key);
  }

  /** Takes every row out (the Redis store's deltas to send). */
  public List<Row> drain() {
    List<Row> out = new ArrayList<>();
    for (Key k : rows.keySet()) {
      Row r = rows.remove(k);
      if (r != null) {
        out.add(r);
      }
    }
    return out;
  }
}
