package dev.llmgw.core.exchange;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The deadlines of the backend attempt in flight on one client connection, kept by one lazy timer
 * that lives as long as the connection. Scheduling and cancelling a timer per attempt (a timer-queue
 * insert and removal each, the removal ~2 % of the CPU in the profile, docs/benchmarks.md) gave way
 * to this: an attempt says when it next needs a look; the timer is re-armed only when that is earlier
 * than the wake-up already pending; a wake-up that finds a later attempt, or none, costs a check.
 * On a busy keep-alive connection the timer fires about once per first-byte timeout instead of being
 * scheduled and cancelled for every request.
 *
 * <p>Confined to the connection's event loop. One attempt is watched at a time (a connection carries
 * one exchange at a time, an exchange one attempt at a time).
 */
public final class Watchdog {
  /** An attempt under watch. */
  interface Watched {
    /**
     * Checks the deadlines at {@code nowNanos} (failing the attempt when one has passed) and returns
     * when to look next, or {@link #DONE}.
     */
    long check(long nowNanos);
  }

  static final long DONE = Long.MIN_VALUE;

  private final EventExecutor loop;
  private final Runnable fire = this::fire;
  private Watched current;
  private ScheduledFuture<?> timer;
  private long firesAtNanos;

  public Watchdog(EventExecutor loop) {
    this.loop = loop;
  }

  /** Watches {@code w} (instead of whatever was watched), looking first at {@code atNanos}. */
  void watch(Watched w, long atNanos) {
    current = w;
    lookAt(atNanos);
  }

  /** Stops watching {@code w}; a pending wake-up is left to find nothing. */
  void release(Watched w) {
    if (current == w) {
      current = null;
    }
  }

  /** The connection closed: nothing is left to watch. */
  public void close() {
    current = null;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void lookAt(long atNanos) {
    if (timer != null) {
      if (firesAtNanos <= atNanos) {
        return; // wakes up early enough, and will look again
      }
      timer.cancel(false); // rare: a backend with a shorter timeout than the last one
    }
    firesAtNanos = atNanos;
    timer = loop.schedule(fire, Math.max(0, atNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  private void fire() {
    timer = null;
    Watched w = current;
    if (w == null) {
      return;
    }
    long next = w.check(System.nanoTime()); // may fail w, and the exchange may watch its next attempt
    if (next != DONE && current == w) {
      lookAt(next);
    }
  }
}
