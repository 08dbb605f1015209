package dev.llmgw.core.state;

import dev.llmgw.core.economics.CallerUsage;
import io.lettuce.core.RedisException;
import io.lettuce.core.ScriptOutputType;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Per-key and per-team usage in Redis: one hash per UTC day ({@code <prefix>usage:<day>}, field
 * {@code <kind>|<name>|<figure>}) that every replica adds to. This process counts its own requests in
 * memory ({@link #deltas()}, adding never blocks); each flush adds what it counted since the last one
 * with {@code usage-add.lua} (once, by its marker) through the link's replay queue. Reading the
 * report's rows blocks (bounded by the timeout): admin only.
 */
final class RedisUsage {
  private final RedisLink link;
  private final RedisKeys keys;
  private final RedisScript usageScript = RedisScript.load("usage-add.lua");
  /** This process's per-caller deltas since the last flush (every replica adds its own). */
  private final CallerUsage deltas;

  RedisUsage(RedisLink link, RedisKeys keys, Clock clock) {
    this.link = link;
    this.keys = keys;
    this.deltas = new CallerUsage(clock);
  }

  /** Where this process counts finished requests ({@link StateStore#usage()}). */
  CallerUsage deltas() {
    return deltas;
  }

  /** Adds what was counted since the last flush to the daily hashes (asynchronous; queued while down). */
  void flush() {
    List<CallerUsage.Row> rows = deltas.drain();
    if (rows.isEmpty()) {
      return;
    }
    List<String> args = new ArrayList<>(1 + rows.size() * 9);
    args.add(Long.toString(Duration.ofDays(CallerUsage.DAYS_KEPT + 1).toMillis()));
    for (CallerUsage.Row r : rows) {
      args.add(keys.key("usage", r.day().toString()));
      args.add(r.kind() + "|" + r.name());
      args.add(Long.toString(r.requests()));
      args.add(Double.toString(r.cost()));
      args.add(Long.toString(r.unpriced()));
      args.add(Double.toString(r.comparedCost()));
      args.add(Double.toString(r.baselineCost()));
      args.add(Long.toString(r.cacheHits()));
      args.add(Double.toString(r.cacheSaved()));
    }
    String[] scriptKeys = {keys.marker()};
    String[] argv = args.toArray(String[]::new);
    Supplier<CompletionStage<?>> call = () -> usageScript.run(link.async(), ScriptOutputType.INTEGER, scriptKeys,
        argv);
    link.send(call, "usage");
  }

  /** {@link StateStore#usageSince}: the daily hashes from {@code from} (at most {@link CallerUsage#DAYS_KEPT} back). */
  List<CallerUsage.Row> since(LocalDate from) {
    LocalDate today = keys.today();
    LocalDate first = from.isBefore(today.minusDays(CallerUsage.DAYS_KEPT))
        ? today.minusDays(CallerUsage.DAYS_KEPT) : from;
    List<CallerUsage.Row> out = new ArrayList<>();
    for (LocalDate d = first; !d.isAfter(today); d = d.plusDays(1)) {
      Map<String, String> h;
      try {
        h = link.sync().hgetall(keys.key("usage", d.toString()));
      } catch (RedisException e) {
        link.failed("usage read", e);
        throw new StateUnavailableException("Redis: usage read failed");
      }
      out.addAll(rows(d, h));
    }
    return out;
  }

  /** One day's hash as rows, by caller ({@code kind|name}) in name order. */
  static List<CallerUsage.Row> rows(LocalDate day, Map<String, String> hash) {
    Map<String, double[]> byCaller = new TreeMap<>();
    hash.forEach((field, value) -> {
      int cut = field.lastIndexOf('|');
      double[] v = byCaller.computeIfAbsent(field.substring(0, cut), k -> new double[7]);
      int at = switch (field.substring(cut + 1)) {
        case "requests" -> 0;
        case "cost" -> 1;
        case "unpriced" -> 2;
        case "compared" -> 3;
        case "cacheHits" -> 5;
        case "cacheSaved" -> 6;
        default -> 4;
      };
      v[at] = Double.parseDouble(value);
    });
    List<CallerUsage.Row> out = new ArrayList<>(byCaller.size());
    for (Map.Entry<String, double[]> e : byCaller.entrySet()) {
      int bar = e.getKey().indexOf('|');
      double[] v = e.getValue();
      out.add(new CallerUsage.Row(day, e.getKey().substring(0, bar), e.getKey().substring(bar + 1), (long) v[0],
          v[1], (long) v[2], v[3], v[4], (long) v[5], v[6]));
    }
    return out;
  }
}
