import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import jdk.jfr.consumer.RecordedClass;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarises a JFR recording of the gateway under load (JDK 17 has no {@code jfr view hot-methods}):
 * hot methods (self and inclusive), hot code by package, allocation by class and by site, GC,
 * locks/parks, exceptions, per-thread CPU. Only the JDK is needed:
 *
 * <pre>
 *   java bench/tools/JfrTop.java recording.jfr [TOP] [--since=EPOCH_MILLIS] [--requests=N]
 * </pre>
 *
 * {@code --since} drops events before that instant (e.g. the recompilation that starting a recording
 * causes); {@code --requests} (served while recording, after {@code --since}) turns totals into
 * per-request figures. Allocation sites come from {@code jdk.ObjectAllocationInNewTLAB} /
 * {@code OutsideTLAB} when the recording has them (weighted by TLAB size: an unbiased sample of where
 * bytes are allocated), else from {@code jdk.ObjectAllocationSample}, whose per-site weights JDK 17
 * skews towards allocation slow paths (treat those percentages with care).
 */
public final class JfrTop {
  private static int top = 20;
  private static long requests;
  private static double seconds;

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: java JfrTop.java recording.jfr [TOP] [--since=EPOCH_MILLIS] [--requests=N]");
      System.exit(2);
    }
    long since = 0;
    for (int i = 1; i < args.length; i++) {
      if (args[i].startsWith("--since=")) {
        since = Long.parseLong(args[i].substring(8));
      } else if (args[i].startsWith("--requests=")) {
        requests = Long.parseLong(args[i].substring(11));
      } else {
        top = Integer.parseInt(args[i]);
      }
    }
    List<RecordedEvent> events = RecordingFile.readAllEvents(Path.of(args[0]));
    Map<String, List<RecordedEvent>> byType = new HashMap<>();
    long first = Long.MAX_VALUE;
    long last = 0;
    for (RecordedEvent e : events) {
      long t = e.getStartTime().toEpochMilli();
      if (t < since) {
        continue;
      }
      first = Math.min(first, t);
      last = Math.max(last, e.getEndTime().toEpochMilli());
      byType.computeIfAbsent(e.getEventType().getName(), k -> new ArrayList<>()).add(e);
    }
    seconds = Math.max(0.001, (last - first) / 1000.0);
    System.out.printf(Locale.ROOT, "JFR summary: %.1f s of recording%s%s%n", seconds,
        since > 0 ? " (events before the --since instant left out)" : "",
        requests > 0 ? String.format(Locale.ROOT, ", %d requests served in it (%.0f/s)", requests, requests / seconds) : "");
    cpuLoad(byType.getOrDefault("jdk.CPULoad", List.of()));
    cpu(byType.getOrDefault("jdk.ExecutionSample", List.of()));
    nativeSamples(byType.getOrDefault("jdk.NativeMethodSample", List.of()));
    threadAllocation(byType.getOrDefault("jdk.ThreadAllocationStatistics", List.of()));
    List<RecordedEvent> tlab = new ArrayList<>(byType.getOrDefault("jdk.ObjectAllocationInNewTLAB", List.of()));
    tlab.addAll(byType.getOrDefault("jdk.ObjectAllocationOutsideTLAB", List.of()));
    if (!tlab.isEmpty()) {
      allocation(tlab, "jdk.ObjectAllocationInNewTLAB/OutsideTLAB, weighted by TLAB (or object) size");
    } else {
      allocation(byType.getOrDefault("jdk.ObjectAllocationSample", List.of()),
          "jdk.ObjectAllocationSample (JDK 17 skews the per-site weights; see the class comment)");
    }
    jit(byType.getOrDefault("jdk.Compilation", List.of()), byType.getOrDefault("jdk.Deoptimization", List.of()));
    gc(byType.getOrDefault("jdk.GarbageCollection", List.of()), byType.getOrDefault("jdk.GCHeapSummary", List.of()));
    locks(byType.getOrDefault("jdk.JavaMonitorEnter", List.of()), byType.getOrDefault("jdk.ThreadPark", List.of()));
    exceptions(byType.getOrDefault("jdk.JavaExceptionThrow", List.of()),
        byType.getOrDefault("jdk.ExceptionStatistics", List.of()));
    threads(byType.getOrDefault("jdk.ThreadCPULoad", List.of()));
  }

  // ---------------------------------------------------------------- CPU

  private static void cpu(List<RecordedEvent> samples) {
    header("CPU: jdk.ExecutionSample, " + samples.size() + " samples (Java code only; time in the kernel, "
        + "e.g. socket writes, shows as the Java frame that called it)");
    if (samples.isEmpty()) {
      return;
    }
    Map<String, Double> self = new HashMap<>();
    Map<String, Double> inclusiveOurs = new HashMap<>();
    Map<String, Double> pkg = new HashMap<>();
    Map<String, Double> thread = new HashMap<>();
    Map<String, Map<String, Double>> callers = new HashMap<>();
    for (RecordedEvent e : samples) {
      RecordedStackTrace st = e.getStackTrace();
      RecordedThread t = e.getThread("sampledThread");
      thread.merge(t == null ? "?" : t.getJavaName(), 1.0, Double::sum);
      if (st == null || st.getFrames().isEmpty()) {
        continue;
      }
      RecordedFrame f0 = st.getFrames().get(0);
      self.merge(method(f0), 1.0, Double::sum);
      String caller = "(no gateway frame)";
      for (RecordedFrame f : st.getFrames()) {
        if (f.getMethod().getType().getName().startsWith("dev.llmgw.")) {
          caller = method(f);
          break;
        }
      }
      callers.computeIfAbsent(method(f0), k -> new HashMap<>()).merge(caller, 1.0, Double::sum);
      pkg.merge(group(f0.getMethod().getType().getName()), 1.0, Double::sum);
      Set<String> seen = new HashSet<>();
      for (RecordedFrame f : st.getFrames()) {
        String type = f.getMethod().getType().getName();
        if (type.startsWith("dev.llmgw.")) {
          String m = method(f);
          if (seen.add(m)) {
            inclusiveOurs.merge(m, 1.0, Double::sum);
          }
        }
      }
    }
    double n = samples.size();
    print("threads sampled", thread, n);
    print("hot code by package group (self time)", pkg, n);
    print("hot methods, self time (top frame)", self, n);
    System.out.println("-- the same, with the innermost gateway (dev.llmgw) frame that led there");
    self.entrySet().stream()
        .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
        .limit(Math.min(top, 15))
        .forEach(en -> {
          String via = callers.get(en.getKey()).entrySet().stream()
              .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
              .limit(2)
              .map(c -> c.getKey() + String.format(Locale.ROOT, " (%.0f%%)", 100 * c.getValue() / en.getValue()))
              .reduce((a, b) -> a + ", " + b).orElse("");
          System.out.printf(Locale.ROOT, "  %6.2f%%  %s  <- %s%n", 100 * en.getValue() / n, en.getKey(), via);
        });
    print("gateway methods, inclusive (on the stack)", inclusiveOurs, n);
  }

  /** A coarse grouping of code, by what a gateway engineer would act on. */
  private static String group(String type) {
    String[][] groups = {
        {"dev.llmgw.", "dev.llmgw (gateway)"},
        {"com.fasterxml.jackson.", "jackson"},
        {"ch.qos.logback.", "logback"},
        {"org.slf4j.", "slf4j"},
        {"io.netty.handler.codec.http.", "netty http codec"},
        {"io.netty.handler.codec.", "netty codec"},
        {"io.netty.buffer.", "netty buffers"},
        {"io.netty.channel.pool.", "netty channel pool"},
        {"io.netty.channel.epoll.", "netty epoll transport"},
        {"io.netty.channel.", "netty channel/pipeline"},
        {"io.netty.util.concurrent.", "netty executors/promises"},
        {"io.netty.util.", "netty util"},
        {"io.netty.", "netty other"},
        {"java.lang.invoke.", "java.lang.invoke"},
        {"java.util.concurrent.", "java.util.concurrent"},
        {"java.util.", "java.util"},
        {"java.lang.", "java.lang"},
        {"java.io.", "java.io"},
        {"java.net.", "java.net"},
        {"java.nio.", "java.nio"},
        {"sun.nio.", "sun.nio"},
        {"jdk.internal.", "jdk.internal"},
        {"jdk.jfr.", "jdk.jfr (profiler)"},
    };
    for (String[] g : groups) {
      if (type.startsWith(g[0])) {
        return g[1];
      }
    }
    return type.contains(".") ? type.substring(0, type.lastIndexOf('.')) : type;
  }

  private static void cpuLoad(List<RecordedEvent> loads) {
    if (loads.isEmpty()) {
      return;
    }
    double jvm = 0;
    double machine = 0;
    for (RecordedEvent e : loads) {
      jvm += e.getFloat("jvmUser") + e.getFloat("jvmSystem");
      machine += e.getFloat("machineTotal");
    }
    header(String.format(Locale.ROOT, "Machine: this JVM used %.0f%% of all CPUs on average, the whole machine %.0f%% "
        + "(jdk.CPULoad; the difference is the load generator, the mock and any other process)",
        100 * jvm / loads.size(), 100 * machine / loads.size()));
  }

  private static void nativeSamples(List<RecordedEvent> samples) {
    if (samples.isEmpty()) {
      return;
    }
    Map<String, Double> m = new HashMap<>();
    for (RecordedEvent e : samples) {
      RecordedThread t = e.getThread("sampledThread");
      m.merge((t == null ? "?" : t.getJavaName()) + " in " + frame0(e), 1.0, Double::sum);
    }
    header("Threads in native code: jdk.NativeMethodSample, " + samples.size() + " samples (waiting in epoll or "
        + "doing I/O; an event-loop thread here is idle or in a syscall)");
    print("thread in method", m, samples.size());
  }

  private static void threadAllocation(List<RecordedEvent> stats) {
    if (stats.isEmpty()) {
      return;
    }
    Map<String, long[]> byThread = new HashMap<>(); // first, last
    for (RecordedEvent e : stats) {
      RecordedThread t = e.getThread("thread");
      String name = t == null ? "?" : t.getJavaName();
      long a = e.getLong("allocated");
      long[] fl = byThread.computeIfAbsent(name, k -> new long[] {a, a});
      fl[0] = Math.min(fl[0], a);
      fl[1] = Math.max(fl[1], a);
    }
    long total = 0;
    Map<String, Double> delta = new HashMap<>();
    for (Map.Entry<String, long[]> en : byThread.entrySet()) {
      long d = en.getValue()[1] - en.getValue()[0];
      if (d > 0) {
        delta.put(en.getKey(), (double) d);
        total += d;
      }
    }
    header(String.format(Locale.ROOT, "Allocated bytes (jdk.ThreadAllocationStatistics, exact): %.1f MB in %.1f s = %.0f MB/s%s",
        total / 1e6, seconds, total / 1e6 / seconds,
        requests > 0 ? String.format(Locale.ROOT, " = %.1f KB per request", total / 1024.0 / requests) : ""));
    print("by thread", delta, total);
  }

  private static void jit(List<RecordedEvent> compilations, List<RecordedEvent> deopts) {
    double ms = 0;
    for (RecordedEvent e : compilations) {
      ms += e.getDuration().toNanos() / 1e6;
    }
    header(String.format(Locale.ROOT, "JIT: %d compilations recorded (only those above the settings' threshold) taking "
        + "%.0f ms, %d deoptimizations", compilations.size(), ms, deopts.size()));
    Map<String, Double> d = new HashMap<>();
    for (RecordedEvent e : deopts) {
      String reason = e.getString("reason");
      String m = e.getValue("method") == null ? "?" : ((jdk.jfr.consumer.RecordedMethod) e.getValue("method")).getType()
          .getName() + "." + ((jdk.jfr.consumer.RecordedMethod) e.getValue("method")).getName();
      d.merge(reason + " @ " + m, 1.0, Double::sum);
    }
    print("deoptimizations by reason and method", d, Math.max(1, deopts.size()));
  }

  // ---------------------------------------------------------------- allocation

  private static double weight(RecordedEvent e) {
    String type = e.getEventType().getName();
    if (type.equals("jdk.ObjectAllocationInNewTLAB")) {
      return e.getLong("tlabSize");
    }
    if (type.equals("jdk.ObjectAllocationOutsideTLAB")) {
      return e.getLong("allocationSize");
    }
    return e.getLong("weight");
  }

  private static void allocation(List<RecordedEvent> samples, String source) {
    double total = 0;
    Map<String, Double> byClass = new HashMap<>();
    Map<String, Double> bySite = new HashMap<>();
    Map<String, Double> byOurs = new HashMap<>();
    for (RecordedEvent e : samples) {
      double w = weight(e);
      total += w;
      RecordedClass c = e.getClass("objectClass");
      byClass.merge(c == null ? "?" : c.getName(), w, Double::sum);
      RecordedStackTrace st = e.getStackTrace();
      if (st == null) {
        continue;
      }
      bySite.merge(site(st), w, Double::sum);
      String ours = "(no gateway frame on the stack)";
      for (RecordedFrame f : st.getFrames()) {
        if (f.getMethod().getType().getName().startsWith("dev.llmgw.")) {
          ours = method(f);
          break;
        }
      }
      byOurs.merge(ours, w, Double::sum);
    }
    header(String.format(Locale.ROOT, "Allocation sites: %s, %d samples", source, samples.size()));
    if (samples.isEmpty()) {
      return;
    }
    print("allocated bytes by class", byClass, total);
    print("allocated bytes by site (allocating frame <- first non-JDK caller)", bySite, total);
    print("allocated bytes by the innermost gateway (dev.llmgw) frame", byOurs, total);
  }

  /** "top frame <- first frame outside java.* / jdk.* / sun.*" (or just the top frame). */
  private static String site(RecordedStackTrace st) {
    List<RecordedFrame> frames = st.getFrames();
    if (frames.isEmpty()) {
      return "?";
    }
    String top = method(frames.get(0));
    if (!isJdk(frames.get(0))) {
      return top;
    }
    for (int i = 1; i < frames.size(); i++) {
      if (!isJdk(frames.get(i))) {
        return top + " <- " + method(frames.get(i));
      }
    }
    return top;
  }

  private static boolean isJdk(RecordedFrame f) {
    String t = f.getMethod().getType().getName();
    return t.startsWith("java.") || t.startsWith("jdk.") || t.startsWith("sun.");
  }

  // ---------------------------------------------------------------- GC, locks, exceptions, threads

  private static void gc(List<RecordedEvent> gcs, List<RecordedEvent> heap) {
    Duration sum = Duration.ZERO;
    Duration max = Duration.ZERO;
    Map<String, Double> byName = new HashMap<>();
    for (RecordedEvent e : gcs) {
      Duration d = e.getDuration("sumOfPauses");
      sum = sum.plus(d);
      if (d.compareTo(max) > 0) {
        max = d;
      }
      byName.merge(e.getString("name"), 1.0, Double::sum);
    }
    long maxUsed = 0;
    long committed = 0;
    for (RecordedEvent e : heap) {
      maxUsed = Math.max(maxUsed, e.getLong("heapUsed"));
      try { // heapSpace is a struct
        committed = Math.max(committed, e.getLong("heapSpace.committedSize"));
      } catch (RuntimeException ignored) {
        // field layout differs between JDKs
      }
    }
    header("GC");
    System.out.printf(Locale.ROOT, "  collections: %d %s, total pause %.1f ms, longest %.2f ms%n", gcs.size(), byName,
        sum.toNanos() / 1e6, max.toNanos() / 1e6);
    System.out.printf(Locale.ROOT, "  heap used (max seen at GC): %.1f MB, heap committed: %.1f MB%n", maxUsed / 1e6,
        committed / 1e6);
  }

  private static void locks(List<RecordedEvent> monitors, List<RecordedEvent> parks) {
    header("Locks: jdk.JavaMonitorEnter " + monitors.size() + ", jdk.ThreadPark " + parks.size()
        + " (only waits above the settings' threshold are recorded)");
    Map<String, Double> m = new HashMap<>();
    for (RecordedEvent e : monitors) {
      RecordedClass c = e.getClass("monitorClass");
      m.merge((c == null ? "?" : c.getName()) + " @ " + frame0(e) + " [" + thread(e) + "]", 1.0, Double::sum);
    }
    print("contended monitors", m, monitors.size());
    Map<String, Double> p = new HashMap<>();
    for (RecordedEvent e : parks) {
      p.merge(frameOutside(e, "java.util.concurrent.locks.", "jdk.internal.misc.") + " [" + thread(e) + "]", 1.0,
          Double::sum);
    }
    print("parks (blocking waits)", p, parks.size());
  }

  private static void exceptions(List<RecordedEvent> throwsEv, List<RecordedEvent> stats) {
    long thrown = 0;
    if (stats.size() >= 2) {
      thrown = stats.get(stats.size() - 1).getLong("throwables") - stats.get(0).getLong("throwables");
    }
    header(String.format(Locale.ROOT, "Exceptions: %d throwables created (jdk.ExceptionStatistics)%s", thrown,
        requests > 0 ? String.format(Locale.ROOT, ", %.3f per request", thrown / (double) requests) : ""));
    Map<String, Double> m = new HashMap<>();
    for (RecordedEvent e : throwsEv) {
      RecordedClass c = e.getClass("thrownClass");
      m.merge((c == null ? "?" : c.getName()) + " @ " + frameOutside(e, "java.lang.Throwable", "java.lang.Exception"),
          1.0, Double::sum);
    }
    print("thrown, by class and first frame outside the Throwable constructors (jdk.JavaExceptionThrow)", m,
        Math.max(1, throwsEv.size()));
  }

  private static void threads(List<RecordedEvent> loads) {
    header("Per-thread CPU (jdk.ThreadCPULoad, mean of user+system over the recording, share of all CPUs)");
    Map<String, double[]> acc = new HashMap<>();
    for (RecordedEvent e : loads) {
      double[] a = acc.computeIfAbsent(thread(e), k -> new double[2]);
      a[0] += e.getFloat("user") + e.getFloat("system");
      a[1]++;
    }
    acc.entrySet().stream()
        .map(en -> Map.entry(en.getKey(), en.getValue()[0] / en.getValue()[1]))
        .filter(en -> en.getValue() > 0.001)
        .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
        .limit(top)
        .forEach(en -> System.out.printf(Locale.ROOT, "  %6.1f%%  %s%n", en.getValue() * 100, en.getKey()));
  }

  // ---------------------------------------------------------------- helpers

  private static String thread(RecordedEvent e) {
    RecordedThread t = e.getThread();
    if (t == null) {
      try {
        t = e.getThread("eventThread");
      } catch (RuntimeException ignored) {
        return "?";
      }
    }
    return t == null ? "?" : t.getJavaName();
  }

  private static String frame0(RecordedEvent e) {
    RecordedStackTrace st = e.getStackTrace();
    return st == null || st.getFrames().isEmpty() ? "?" : method(st.getFrames().get(0));
  }

  private static String frameOutside(RecordedEvent e, String... prefixes) {
    RecordedStackTrace st = e.getStackTrace();
    if (st == null) {
      return "?";
    }
    outer:
    for (RecordedFrame f : st.getFrames()) {
      String t = f.getMethod().getType().getName();
      for (String p : prefixes) {
        if (t.startsWith(p)) {
          continue outer;
        }
      }
      return method(f);
    }
    return frame0(e);
  }

  private static String method(RecordedFrame f) {
    String type = f.getMethod().getType().getName();
    int dot = type.lastIndexOf('.');
    String pkg = dot < 0 ? "" : type.substring(0, dot);
    // shorten the package to initials, keep the class: i.n.h.c.h.HttpObjectDecoder.decode
    StringBuilder sb = new StringBuilder();
    for (String part : pkg.split("\\.")) {
      if (!part.isEmpty()) {
        sb.append(part.charAt(0)).append('.');
      }
    }
    return sb + type.substring(dot + 1) + "." + f.getMethod().getName();
  }

  private static void header(String s) {
    System.out.println();
    System.out.println("== " + s);
  }

  private static void print(String title, Map<String, Double> m, double total) {
    if (m.isEmpty()) {
      return;
    }
    System.out.println("-- " + title);
    ToDoubleFunction<Map.Entry<String, Double>> v = Map.Entry::getValue;
    m.entrySet().stream()
        .sorted(Comparator.comparingDouble(v).reversed())
        .limit(top)
        .forEach(en -> System.out.printf(Locale.ROOT, "  %6.2f%%  %s%n", 100.0 * en.getValue() / total, en.getKey()));
  }
}
