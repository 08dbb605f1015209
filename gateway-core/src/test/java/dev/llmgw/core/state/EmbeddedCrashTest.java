package dev.llmgw.core.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a crash of a gateway on the embedded store loses, measured: a child JVM settles a spend every
 * 2 ms and is killed with SIGKILL mid-stream; the file is opened again and compared with what the
 * child had settled. The loss must fit the documented window: the settlements of the last
 * {@code flushInterval}, plus the write in progress.
 */
class EmbeddedCrashTest {
  static final long FLUSH_MS = 100;

  @TempDir
  Path dir;

  @Test
  void killMinusNineLosesAtMostTheLastFlushInterval() throws Exception {
    Path file = dir.resolve("crash.mv");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        CrashChild.class.getName(), file.toString(), Long.toString(FLUSH_MS)).redirectErrorStream(false).start();
    List<long[]> settled = new ArrayList<>(); // {number, arrival nanos}
    try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
        StandardCharsets.UTF_8))) {
      String line;
      long started = System.nanoTime();
      while ((line = out.readLine()) != null) {
        if (!line.strip().matches("\\d+")) {
          continue; // a log line
        }
        settled.add(new long[] {Long.parseLong(line.strip()), System.nanoTime()});
        if (settled.size() >= 400 || System.nanoTime() - started > TimeUnit.SECONDS.toNanos(60)) {
          break;
        }
      }
      child.destroyForcibly(); // SIGKILL: no shutdown hook, no final flush
      child.waitFor(10, TimeUnit.SECONDS);
    }
    long killedAt = System.nanoTime();
    long seen = settled.get(settled.size() - 1)[0];
    double restored;
    try (EmbeddedStore s = new EmbeddedStore(file, Duration.ofMillis(FLUSH_MS), StateStoreTest.ECONOMICS,
        Clock.systemUTC())) {
      restored = s.spentUsd("key:crash");
    }
    long kept = Math.round(restored / 0.001);
    long window = settled.stream().filter(e -> killedAt - e[1] <= TimeUnit.MILLISECONDS.toNanos(FLUSH_MS + 100))
        .count();
    System.out.printf("[embedded-crash] settled at least %d before kill -9, %d on disk after restart: lost %d"
        + " (settlements in the last %d ms before the kill: %d)%n", seen, kept, seen - kept, FLUSH_MS + 100, window);
    assertThat(kept).as("nothing on disk that was never settled").isLessThanOrEqualTo(seen + 25);
    assertThat(seen - kept).as("lost beyond the flush window").isLessThanOrEqualTo(window + 1);
    assertThat(kept).as("the file is usable and holds what was written before the window").isGreaterThan(0);
  }
}
