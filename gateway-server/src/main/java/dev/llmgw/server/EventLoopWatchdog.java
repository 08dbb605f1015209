package dev.llmgw.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the event loops for work that holds them, as Envoy's watchdog and Vert.x's blocked-thread
 * checker do. Each loop runs a heartbeat task every {@code interval}; how late it ran is recorded
 * ({@code gateway_event_loop_lag_seconds{loop}}: a loop that only does its I/O runs it within a
 * millisecond). A monitor thread that finds a loop's heartbeat overdue by more than {@code stall} counts a
 * stall ({@code gateway_event_loop_stalls_total{loop}}) and logs, once per stall, what the loop thread is
 * doing: its stack, which names a blocking call. A stop-the-world GC pause delays every heartbeat too
 * ({@code jvm_gc_pause_seconds} tells it apart), and so does a loop with more work than it can do (one
 * batch of I/O events taking that long: the stack then shows ordinary request handling).
 *
 * <p>The heartbeat costs one scheduled task per loop per interval; nothing is added to the request path.
 */
public final class EventLoopWatchdog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EventLoopWatchdog.class);
  /** Stack frames logged for a stalled loop. */
  private static final int FRAMES = 24;

  /** Defaults: a heartbeat every 100 ms; a loop that misses it by 500 ms more is stalled. */
  public static final Duration INTERVAL = Duration.ofMillis(100);
  public static final Duration STALL = Duration.ofMillis(500);

  private final long intervalNanos;
  private final long stallNanos;
  private final List<Beat> beats = new ArrayList<>();
  private final Thread monitor;
  private volatile boolean closed;

  /** One loop's heartbeat. Written on the loop, read by the monitor. */
  private final class Beat implements Runnable {
    final String name;
    final Timer lag;
    final Counter stalls;
    volatile Thread thread;
    /** {@code System.nanoTime()} when the next heartbeat is due. */
    volatile long due;
    /** Whether the current stall was reported (monitor thread only). */
    boolean reported;
    ScheduledFuture<?> task;

    Beat(String name, MeterRegistry registry) {
      this.name = name;
      this.lag = Timer.builder("gateway.event_loop.lag")
          .description("How late an event loop ran its heartbeat (every 100 ms): time it could not serve I/O")
          .tag("loop", name)
          .serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
              Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1))
          .register(registry);
      this.stalls = Counter.builder("gateway.event_loop.stalls")
          .description("Times an event loop missed its heartbeat by more than 500 ms (a blocking call, a GC pause, overload)")
          .tag("loop", name)
          .register(registry);
    }

    @Override
    public void run() {
      long now = System.nanoTime();
      if (thread == null) {
        thread = Thread.currentThread();
      } else {
        lag.record(Math.max(0, now - due), TimeUnit.NANOSECONDS);
      }
      due = now + intervalNanos;
    }
  }

  /** Watches every executor of {@code loops} with the default interval and stall threshold. */
  public EventLoopWatchdog(EventExecutorGroup loops, MeterRegistry registry) {
    this(loops, registry, INTERVAL, STALL);
  }

  public EventLoopWatchdog(EventExecutorGroup loops, MeterRegistry registry, Duration interval, Duration stall) {
    this.intervalNanos = interval.toNanos();
    this.stallNanos = stall.toNanos();
    int i = 0;
    long now = System.nanoTime();
    for (EventExecutor loop : loops) {
      Beat b = new Beat(Integer.toString(i++), registry);
      b.due = now + intervalNanos;
      b.task = loop.scheduleWithFixedDelay(b, 0, intervalNanos, TimeUnit.NANOSECONDS);
      beats.add(b);
    }
    monitor = new Thread(this::watch, "gateway-watchdog");
    monitor.setDaemon(true);
    monitor.start();
  }

  private void watch() {
    while (!closed) {
      LockSupport.parkNanos(intervalNanos);
      long now = System.nanoTime();
      for (Beat b : beats) {
        long overdue = now - b.due;
        if (overdue <= stallNanos) {
          b.reported = false;
        } else if (!b.reported && !closed) {
          b.reported = true;
          b.stalls.increment();
          LOG.warn("event loop {} ({}) has not run for {} ms: a blocking call, a GC pause or more work "
              + "than it can do holds every connection on it. It is at:{}", b.name,
              b.thread == null ? "its first heartbeat has not run" : b.thread.getName(),
              TimeUnit.NANOSECONDS.toMillis(overdue + intervalNanos), stack(b.thread));
        }
      }
    }
  }

  private static String stack(Thread t) {
    if (t == null) {
      return " (unknown)";
    }
    StringBuilder sb = new StringBuilder();
    StackTraceElement[] frames = t.getStackTrace();
    for (int i = 0; i < Math.min(FRAMES, frames.length); i++) {
      sb.append("\n\tat ").append(frames[i]);
    }
    if (frames.length > FRAMES) {
      sb.append("\n\t... ").append(frames.length - FRAMES).append(" more");
    }
    return sb.toString();
  }

  /** Stops the heartbeats and the monitor. */
  @Override
  public void close() {
    closed = true;
    for (Beat b : beats) {
      b.task.cancel(false);
    }
    monitor.interrupt();
  }
}
