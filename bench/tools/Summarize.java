import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Turns one bench/run.sh results directory into the summary table (Markdown) with the ratios of issue
 * #7's targets, all from the same run. JDK only:
 *
 * <pre>
 *   java bench/tools/Summarize.java bench/results/20250101-120000
 * </pre>
 */
public final class Summarize {
  private static final List<String> TARGETS = List.of("direct", "nginx", "gateway");

  record Row(int round, String target, int conc, String kind, double rps, double p50, double p90, double p99,
      double p999, double max, long requests, long statusErr, long socketErr, double cpuUsPerReq,
      double foreignCpuPct) {}

  /** One delayed-stream (SSE) load run of sse.tsv (StreamLoad): times in µs. */
  record SseRow(int round, String target, int conc, double sps, double fb50, double fb90, double fb99, double fbMax,
      double tot50, double tot90, double tot99, long streams, long events, long statusErr, long doneErr, long socketErr,
      double cpuUsPerStream, double foreignCpuPct) {}

  /** The medians of a cell's quiet SSE runs (CPU: of all its runs), errors summed over all of them. */
  record SseAgg(double sps, double fb50, double fb99, double tot50, double tot99, double eventsPerStream,
      long statusErr, long doneErr, long socketErr, double cpu, double foreign, int used, int rounds) {
    long errors() {
      return statusErr + doneErr + socketErr;
    }

    String quality() {
      return used + "/" + rounds + (used == 0 ? " ⚠" : "");
    }
  }

  record Agg(double rps, double p50, double p90, double p99, double p999, long requests, long errors,
      long statusErr, long socketErr, double cpu, double foreign, int used, int rounds) {

    /** "2/2" when every round was quiet, "1/2", or "0/2 ⚠" when the quietest noisy run had to do. */
    String quality() {
      return used + "/" + rounds + (used == 0 ? " ⚠" : "");
    }
  }

  /** A measured run during which other processes used more CPU than this (%) is not trusted. */
  private static double noisyPct = 20;

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args.length > 0 ? args[0] : ".");
    if (args.length > 1) {
      noisyPct = Double.parseDouble(args[1]);
    }
    StringBuilder out = new StringBuilder();
    Path meta = dir.resolve("meta.txt");
    if (Files.exists(meta)) {
      out.append("```\n").append(Files.readString(meta).strip()).append("\n```\n\n");
    }
    List<Row> rows = readLoad(dir.resolve("load.tsv"));
    Map<String, Agg> agg = aggregate(rows);
    TreeSet<Integer> chatConcs = new TreeSet<>();
    TreeSet<Integer> streamConcs = new TreeSet<>();
    TreeSet<Integer> pacedConcs = new TreeSet<>();
    for (Row r : rows) {
      (r.kind.equals("chat") ? chatConcs : r.kind.equals("paced") ? pacedConcs : streamConcs).add(r.conc);
    }
    int rounds = rows.stream().mapToInt(Row::round).max().orElse(0);

    out.append("### Load: non-streaming chat completion (~1 KB request, ~1 KB response)\n\n");
    out.append(String.format(Locale.ROOT, "Each cell: the median of the runs (one per round, %d rounds) during which other "
        + "processes used at most %.0f%% of the CPUs (\"quiet runs\"), or the quietest run if none was quiet (⚠). "
        + "Errors are summed over every run, discarded ones included.%n%n", rounds, noisyPct));
    out.append("| target | c | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors (non-2xx / socket) | server CPU µs/req "
        + "| other processes' CPU % | quiet runs |\n");
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int c : chatConcs) {
      for (String t : TARGETS) {
        Agg a = agg.get(key(t, c, "chat"));
        if (a != null) {
          out.append(String.format(Locale.ROOT, "| %s | %d | %.0f | %.3f | %.3f | %.3f | %.3f | %d / %d | %.1f | %.0f | %s |%n",
              t, c, a.rps, ms(a.p50), ms(a.p90), ms(a.p99), ms(a.p999), a.statusErr, a.socketErr, a.cpu, a.foreign,
              a.quality()));
        }
      }
    }
    if (!streamConcs.isEmpty()) {
      out.append("\n### Load: streamed chat completion (20 SSE chunks + [DONE], no delay; latency = whole stream)\n\n");
      out.append("| target | c | req/s | p50 ms | p90 ms | p99 ms | errors (non-2xx / socket) | server CPU µs/req "
          + "| other processes' CPU % | quiet runs |\n");
      out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      for (int c : streamConcs) {
        for (String t : TARGETS) {
          Agg a = agg.get(key(t, c, "stream"));
          if (a != null) {
            out.append(String.format(Locale.ROOT, "| %s | %d | %.0f | %.3f | %.3f | %.3f | %d / %d | %.1f | %.0f | %s |%n",
                t, c, a.rps, ms(a.p50), ms(a.p90), ms(a.p99), a.statusErr, a.socketErr, a.cpu, a.foreign, a.quality()));
          }
        }
      }
    }

    List<String[]> checks = new ArrayList<>();
    out.append("\n### Ratios (same run)\n\n");
    out.append("Server CPU µs/req is the CPU time of the server process (the mock for direct, the nginx worker, the "
        + "gateway JVM) per request, the median over all runs: the least noise-sensitive figure here.\n\n");
    out.append("| c | gateway/nginx req/s | nginx added p50 ms | gateway added p50 ms | gateway/nginx added p50 "
        + "| nginx added p99 ms | gateway added p99 ms | gateway CPU/req ÷ nginx CPU/req |\n");
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int c : chatConcs) {
      Agg d = agg.get(key("direct", c, "chat"));
      Agg n = agg.get(key("nginx", c, "chat"));
      Agg g = agg.get(key("gateway", c, "chat"));
      if (d == null || n == null || g == null) {
        continue;
      }
      double ratio = g.rps / n.rps;
      double nAdd50 = ms(n.p50 - d.p50);
      double gAdd50 = ms(g.p50 - d.p50);
      double nAdd99 = ms(n.p99 - d.p99);
      double gAdd99 = ms(g.p99 - d.p99);
      double addRatio = nAdd50 > 0 ? gAdd50 / nAdd50 : Double.NaN;
      out.append(String.format(Locale.ROOT, "| %d%s | %.2f | %.3f | %.3f | %.2f | %.3f | %.3f | %.2f |%n", c,
          d.used == 0 || n.used == 0 || g.used == 0 ? " ⚠" : "", ratio, nAdd50, gAdd50, addRatio, nAdd99, gAdd99,
          n.cpu > 0 ? g.cpu / n.cpu : Double.NaN));
      checks.add(check(ratio >= 0.6 && g.errors == 0,
          String.format(Locale.ROOT, "c=%d: gateway throughput ≥ 0.6× nginx, zero errors", c),
          String.format(Locale.ROOT, "%.2f×, %d errors", ratio, g.errors)));
      checks.add(check(gAdd50 <= 2 * nAdd50,
          String.format(Locale.ROOT, "c=%d: gateway added p50 ≤ 2× nginx added p50", c),
          String.format(Locale.ROOT, "%.3f ms vs 2 × %.3f ms (%.2f×)", gAdd50, nAdd50, addRatio)));
      checks.add(check(gAdd99 <= 1.0,
          String.format(Locale.ROOT, "c=%d, closed loop (saturated): gateway added p99 ≤ 1 ms", c),
          String.format(Locale.ROOT, "%.3f ms", gAdd99)));
    }

    if (!pacedConcs.isEmpty()) {
      out.append("\n### Latency at a fixed offered rate (same request, same connections, nobody saturated)\n\n");
      out.append("wrk paces each connection with random (exponential) pauses so that the c connections together offer "
          + "a fixed rate (`PACED_RATE`, see meta.txt); latency is timed from each request's write. Here latency is the "
          + "cost of the hop itself plus the server's stalls (GC, scheduling), not queueing behind a saturated "
          + "server as in the closed-loop runs above.\n\n");
      out.append("| target | c | req/s achieved | p50 ms | p90 ms | p99 ms | p99.9 ms | added p50 ms | added p99 ms "
          + "| errors (non-2xx / socket) | server CPU µs/req | other processes' CPU % | quiet runs |\n");
      out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      for (int c : pacedConcs) {
        Agg d = agg.get(key("direct", c, "paced"));
        for (String t : TARGETS) {
          Agg a = agg.get(key(t, c, "paced"));
          if (a == null) {
            continue;
          }
          boolean base = t.equals("direct") || d == null;
          out.append(String.format(Locale.ROOT, "| %s | %d | %.0f | %.3f | %.3f | %.3f | %.3f | %s | %s | %d / %d | %.1f | %.0f | %s |%n",
              t, c, a.rps, ms(a.p50), ms(a.p90), ms(a.p99), ms(a.p999),
              base ? "—" : String.format(Locale.ROOT, "%.3f", ms(a.p50 - d.p50)),
              base ? "—" : String.format(Locale.ROOT, "%.3f", ms(a.p99 - d.p99)),
              a.statusErr, a.socketErr, a.cpu, a.foreign, a.quality()));
        }
        Agg n = agg.get(key("nginx", c, "paced"));
        Agg g = agg.get(key("gateway", c, "paced"));
        if (d != null && n != null && g != null) {
          double nAdd50 = ms(n.p50 - d.p50);
          double gAdd50 = ms(g.p50 - d.p50);
          double gAdd99 = ms(g.p99 - d.p99);
          checks.add(check(gAdd50 <= 2 * nAdd50 && g.errors == 0,
              String.format(Locale.ROOT, "c=%d at a fixed rate: gateway added p50 ≤ 2× nginx added p50", c),
              String.format(Locale.ROOT, "%.3f ms vs 2 × %.3f ms (%.2f×)", gAdd50, nAdd50, nAdd50 > 0 ? gAdd50 / nAdd50 : Double.NaN)));
          checks.add(check(gAdd99 <= 1.0 && g.errors == 0,
              String.format(Locale.ROOT, "c=%d at a fixed rate: gateway added p99 ≤ 1 ms", c),
              String.format(Locale.ROOT, "%.3f ms (nginx %.3f ms)", gAdd99, ms(n.p99 - d.p99))));
        }
      }
    }

    List<SseRow> sseRows = readSse(dir.resolve("sse.tsv"));
    if (!sseRows.isEmpty()) {
      sse(out, sseRows, checks, meta);
    }

    Map<String, Map<String, String>> probes = readProbes(dir.resolve("stream.tsv"));
    if (!probes.isEmpty()) {
      Map<String, String> pd = probes.get("direct");
      out.append("\n### Streaming: one request at a time over a keep-alive connection, 20 chunks ")
          .append(pd == null ? "" : "(" + pd.getOrDefault("runs", "?") + " runs)").append("\n\n");
      out.append("| target | TTFB p50 ms | TTFB p90 ms | added TTFB p50 ms | total p50 ms | added total p50 ms "
          + "| largest inter-chunk gap p50 ms | events | errors |\n");
      out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      for (String t : TARGETS) {
        Map<String, String> p = probes.get(t);
        if (p == null || !p.containsKey("ttfb_p50_ms")) {
          out.append("| ").append(t).append(" | (no result) |||||||\n");
          continue;
        }
        double ttfb = d(p, "ttfb_p50_ms");
        double total = d(p, "total_p50_ms");
        double addTtfb = pd == null ? Double.NaN : ttfb - d(pd, "ttfb_p50_ms");
        double addTotal = pd == null ? Double.NaN : total - d(pd, "total_p50_ms");
        out.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f | %s | %.2f | %s | %.2f | %s | %s |%n", t, ttfb,
            d(p, "ttfb_p90_ms"), t.equals("direct") ? "—" : String.format(Locale.ROOT, "%.3f", addTtfb), total,
            t.equals("direct") ? "—" : String.format(Locale.ROOT, "%.2f", addTotal), d(p, "maxgap_p50_ms"),
            p.get("events"), p.get("errors")));
        if (t.equals("gateway")) {
          checks.add(check(addTtfb <= 1.0 && "0".equals(p.get("errors")), "streaming: gateway added TTFB ≤ 1 ms",
              String.format(Locale.ROOT, "%.3f ms", addTtfb)));
          double gap = d(p, "maxgap_p50_ms");
          double dgap = pd == null ? Double.NaN : d(pd, "maxgap_p50_ms");
          checks.add(check(gap - dgap <= 1.0, "streaming: chunks relayed without batching (largest gap ≤ direct's + 1 ms)",
              String.format(Locale.ROOT, "%.2f ms vs %.2f ms direct", gap, dgap)));
        }
      }
    }

    long rssKb = maxLong(dir.resolve("gateway-rss-kb.txt"));
    long hwmKb = maxLong(dir.resolve("gateway-hwm-kb.txt"));
    if (rssKb > 0) {
      double mib = rssKb / 1024.0;
      double mb = rssKb * 1024 / 1e6;
      out.append(String.format(Locale.ROOT, "%n### Gateway memory%n%nmax RSS sampled every 0.5 s during the c=128 "
          + "runs: **%.0f MiB** (%.0f MB); peak RSS of the process since start (VmHWM, includes warm-up): %.0f MiB%n",
          mib, mb, hwmKb / 1024.0));
      checks.add(check(mib <= 300, "RSS ≤ 300 MB at c=128 (read as MiB; " + (mb <= 300 ? "also" : "not") + " in 10^6 bytes)",
          String.format(Locale.ROOT, "%.0f MiB = %.0f MB", mib, mb)));
    }

    Path threads = dir.resolve("gateway-threads.txt");
    if (Files.exists(threads)) {
      out.append("\n### Gateway CPU by thread at c=128 (from /proc, no profiler)\n\n```\n")
          .append(Files.readString(threads).strip()).append("\n```\n");
    }

    if (checks.stream().anyMatch(c -> c.length == 3)) {
      out.append("\n### Issue #7 targets\n\n");
    }
    for (String[] c : checks) {
      if (c.length == 3) {
        out.append("- ").append(c[0]).append(" ").append(c[1]).append(": ").append(c[2]).append('\n');
      }
    }
    if (checks.stream().anyMatch(c -> c.length == 4)) {
      out.append("\n### Issue #15 targets (streams under load)\n\n");
      for (String[] c : checks) {
        if (c.length == 4) {
          out.append("- ").append(c[0]).append(" ").append(c[1]).append(": ").append(c[2]).append('\n');
        }
      }
    }
    System.out.print(out);
  }

  /** The delayed-stream load table (sse.tsv) and issue #15's checks on it. */
  private static void sse(StringBuilder out, List<SseRow> rows, List<String[]> checks, Path meta) throws IOException {
    Map<String, SseAgg> agg = aggregateSse(rows);
    TreeSet<Integer> concs = new TreeSet<>();
    rows.forEach(r -> concs.add(r.conc));
    String delay = "?";
    if (Files.exists(meta)) {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("sse-chunk-delay=(\\d+)ms").matcher(Files.readString(meta));
      if (m.find()) {
        delay = m.group(1);
      }
    }
    out.append("\n### Load: streamed chat completion, 20 SSE chunks ").append(delay)
        .append(" ms apart + [DONE] (StreamLoad, closed loop)\n\n");
    out.append("Each connection sends the next streamed request as soon as the previous stream ends. First byte = from "
        + "the request's write to the read that brings the first byte of the body (the first SSE event); total = to the "
        + "end of the body. Added = minus direct's (the mock alone) at the same c; ×nginx = streams/s over nginx's. "
        + "Server CPU per stream: the server process's CPU over the measured window / streams (median of all runs); "
        + "per event: / SSE events per stream (21: 20 chunks and [DONE]). Errors: non-2xx / a stream without "
        + "`data: [DONE]` / socket, over every run.\n\n");
    out.append("| target | c | streams/s | ×nginx | first byte p50 ms | first byte p99 ms | added first byte p50 ms "
        + "| added first byte p99 ms | total p50 ms | total p99 ms | errors | server CPU µs/stream | µs/event "
        + "| other processes' CPU % | quiet runs |\n");
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int c : concs) {
      SseAgg d = agg.get(key("direct", c, "sse"));
      SseAgg n = agg.get(key("nginx", c, "sse"));
      for (String t : TARGETS) {
        SseAgg a = agg.get(key(t, c, "sse"));
        if (a == null) {
          continue;
        }
        boolean base = t.equals("direct") || d == null;
        out.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %s | %.3f | %.3f | %s | %s | %.2f | %.2f | %d / %d / %d "
                + "| %.1f | %.2f | %.0f | %s |%n",
            t, c, a.sps, n == null ? "—" : String.format(Locale.ROOT, "%.2f", a.sps / n.sps), ms(a.fb50), ms(a.fb99),
            base ? "—" : String.format(Locale.ROOT, "%+.3f", ms(a.fb50 - d.fb50)),
            base ? "—" : String.format(Locale.ROOT, "%+.3f", ms(a.fb99 - d.fb99)),
            ms(a.tot50), ms(a.tot99), a.statusErr, a.doneErr, a.socketErr, a.cpu,
            a.eventsPerStream > 0 ? a.cpu / a.eventsPerStream : Double.NaN, a.foreign, a.quality()));
      }
      SseAgg g = agg.get(key("gateway", c, "sse"));
      if (d == null || n == null || g == null) {
        continue;
      }
      double gAdd50 = ms(g.fb50 - d.fb50);
      double gAdd99 = ms(g.fb99 - d.fb99);
      double nAdd50 = ms(n.fb50 - d.fb50);
      double nAdd99 = ms(n.fb99 - d.fb99);
      String warn = d.used == 0 || n.used == 0 || g.used == 0 ? " ⚠ (a cell without a quiet run)" : "";
      if (c == 128) {
        checks.add(sseCheck(g.sps >= 0.95 * n.sps && g.errors() == 0,
            "streams at c=128: gateway throughput ≥ 0.95× nginx, zero errors",
            String.format(Locale.ROOT, "%.2f× (%.1f vs %.1f streams/s), %d errors%s", g.sps / n.sps, g.sps, n.sps,
                g.errors(), warn)));
        checks.add(sseCheck(gAdd50 <= 1.0, "streams at c=128: gateway added first-byte p50 ≤ 1 ms",
            String.format(Locale.ROOT, "%.3f ms (nginx %.3f ms)%s", gAdd50, nAdd50, warn)));
        checks.add(sseCheck(gAdd99 <= 5.0, "streams at c=128: gateway added first-byte p99 ≤ 5 ms",
            String.format(Locale.ROOT, "%.3f ms (nginx %.3f ms)%s", gAdd99, nAdd99, warn)));
      } else if (c == 32) {
        checks.add(sseCheck(gAdd50 <= 0.5, "streams at c=32: gateway added first-byte p50 ≤ 0.5 ms",
            String.format(Locale.ROOT, "%.3f ms (nginx %.3f ms)%s", gAdd50, nAdd50, warn)));
      }
    }
  }

  private static String[] sseCheck(boolean ok, String what, String value) {
    return new String[] {ok ? "**PASS**" : "**FAIL**", what, value, "#15"};
  }

  private static List<SseRow> readSse(Path f) throws IOException {
    List<SseRow> rows = new ArrayList<>();
    if (!Files.exists(f)) {
      return rows;
    }
    List<String> lines = Files.readAllLines(f);
    for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
      String[] c = line.split("\t");
      if (c.length < 18) {
        continue;
      }
      rows.add(new SseRow(Integer.parseInt(c[0]), c[1], Integer.parseInt(c[2]), Double.parseDouble(c[3]),
          Double.parseDouble(c[4]), Double.parseDouble(c[5]), Double.parseDouble(c[6]), Double.parseDouble(c[7]),
          Double.parseDouble(c[8]), Double.parseDouble(c[9]), Double.parseDouble(c[10]), Long.parseLong(c[11]),
          Long.parseLong(c[12]), Long.parseLong(c[13]), Long.parseLong(c[14]), Long.parseLong(c[15]),
          Double.parseDouble(c[16]), Double.parseDouble(c[17])));
    }
    return rows;
  }

  private static Map<String, SseAgg> aggregateSse(List<SseRow> rows) {
    Map<String, List<SseRow>> by = new LinkedHashMap<>();
    for (SseRow r : rows) {
      by.computeIfAbsent(key(r.target, r.conc, "sse"), k -> new ArrayList<>()).add(r);
    }
    Map<String, SseAgg> out = new HashMap<>();
    by.forEach((k, all) -> {
      long se = 0;
      long de = 0;
      long so = 0;
      long streams = 0;
      long events = 0;
      for (SseRow r : all) {
        se += r.statusErr;
        de += r.doneErr;
        so += r.socketErr;
        streams += r.streams;
        events += r.events;
      }
      List<SseRow> quiet = all.stream().filter(r -> !(r.foreignCpuPct > noisyPct)).toList();
      List<SseRow> rs = quiet.isEmpty()
          ? List.of(all.stream().min(java.util.Comparator.comparingDouble(SseRow::foreignCpuPct)).orElseThrow())
          : quiet;
      out.put(k, new SseAgg(med(rs, SseRow::sps), med(rs, SseRow::fb50), med(rs, SseRow::fb99), med(rs, SseRow::tot50),
          med(rs, SseRow::tot99), streams > 0 ? (double) events / streams : 0, se, de, so,
          med(all, SseRow::cpuUsPerStream), med(rs, SseRow::foreignCpuPct), quiet.size(), all.size()));
    });
    return out;
  }

  private static <T> double med(List<T> rs, java.util.function.ToDoubleFunction<T> f) {
    double[] v = rs.stream().mapToDouble(f).sorted().toArray();
    int n = v.length;
    return n == 0 ? Double.NaN : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  private static String[] check(boolean ok, String what, String value) {
    return new String[] {ok ? "**PASS**" : "**FAIL**", what, value};
  }

  private static double ms(double us) {
    return us / 1000.0;
  }

  private static String key(String t, int c, String kind) {
    return t + "|" + c + "|" + kind;
  }

  private static List<Row> readLoad(Path f) throws IOException {
    List<Row> rows = new ArrayList<>();
    if (!Files.exists(f)) {
      return rows;
    }
    List<String> lines = Files.readAllLines(f);
    for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
      String[] c = line.split("\t");
      if (c.length < 14) {
        continue;
      }
      rows.add(new Row(Integer.parseInt(c[0]), c[1], Integer.parseInt(c[2]), c[3], Double.parseDouble(c[4]),
          Double.parseDouble(c[5]), Double.parseDouble(c[6]), Double.parseDouble(c[7]), Double.parseDouble(c[8]),
          Double.parseDouble(c[9]), Long.parseLong(c[10]), Long.parseLong(c[11]), Long.parseLong(c[12]),
          Double.parseDouble(c[13]), c.length > 14 ? Double.parseDouble(c[14]) : Double.NaN));
    }
    return rows;
  }

  private static Map<String, Agg> aggregate(List<Row> rows) {
    Map<String, List<Row>> by = new LinkedHashMap<>();
    for (Row r : rows) {
      by.computeIfAbsent(key(r.target, r.conc, r.kind), k -> new ArrayList<>()).add(r);
    }
    Map<String, Agg> out = new HashMap<>();
    by.forEach((k, all) -> {
      long req = 0;
      long se = 0;
      long so = 0;
      for (Row r : all) {
        req += r.requests;
        se += r.statusErr;
        so += r.socketErr;
      }
      List<Row> quiet = all.stream().filter(r -> !(r.foreignCpuPct > noisyPct)).toList();
      List<Row> rs = quiet.isEmpty()
          ? List.of(all.stream().min(java.util.Comparator.comparingDouble(Row::foreignCpuPct)).orElseThrow())
          : quiet;
      out.put(k, new Agg(median(rs, Row::rps), median(rs, Row::p50), median(rs, Row::p90), median(rs, Row::p99),
          median(rs, Row::p999), req, se + so, se, so, median(all, Row::cpuUsPerReq),
          median(rs, Row::foreignCpuPct), quiet.size(), all.size()));
    });
    return out;
  }

  private static double median(List<Row> rs, java.util.function.ToDoubleFunction<Row> f) {
    double[] v = rs.stream().mapToDouble(f).sorted().toArray();
    int n = v.length;
    return n == 0 ? Double.NaN : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  private static Map<String, Map<String, String>> readProbes(Path f) throws IOException {
    Map<String, Map<String, String>> out = new HashMap<>();
    if (!Files.exists(f)) {
      return out;
    }
    for (String line : Files.readAllLines(f)) {
      String[] c = line.split("\t", 2);
      if (c.length < 2 || !c[1].startsWith("probe")) {
        continue;
      }
      Map<String, String> m = new HashMap<>();
      Arrays.stream(c[1].split(" ")).filter(s -> s.contains("=")).forEach(s -> {
        int i = s.indexOf('=');
        m.put(s.substring(0, i), s.substring(i + 1));
      });
      out.put(c[0], m);
    }
    return out;
  }

  private static double d(Map<String, String> m, String k) {
    String v = m.get(k);
    return v == null ? Double.NaN : Double.parseDouble(v);
  }

  private static long maxLong(Path f) throws IOException {
    if (!Files.exists(f)) {
      return 0;
    }
    long max = 0;
    for (String s : Files.readAllLines(f)) {
      s = s.strip();
      if (!s.isEmpty() && s.chars().allMatch(Character::isDigit)) {
        max = Math.max(max, Long.parseLong(s));
      }
    }
    return max;
  }
}
