package dev.llmgw.core.exchange;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Deadlines on one connection, kept by one lazy timer that lives as long as the connection: what is
 * watched says when it next needs a look; the timer is re-armed only when that is earlier than the
 * wake-up already pending; a wake-up that finds something later, or nothing, costs a check. Used for
 * the backend attempt in flight (first-byte, idle and total deadlines) and for the request being
 * received (the receive timeout, gateway-server's {@code RequestReceiveTimeoutHandler}), one watchdog
 * each. Scheduling and cancelling a timer per request instead (a timer-queue insert and removal each,
 * the removal ~2 % of the CPU in the profile, docs/benchmarks.md) cost more: on a busy keep-alive
 * connection the timer now fires about once per timeout period.
 *
 * <p>Confined to the connection's event loop. One thing is watched at a time. Times are on the
 * loop's clock ({@link #nanoTime()}; frozen and advanced by hand on an {@code EmbeddedChannel}).
 */
public final class Watchdog {
  /** Something under watch. */
  public interface Watched {
    /**
     * Checks the deadlines at {@code nowNanos} (acting when one has passed) and returns when to look
     * next, or {@link #DONE}.
     */
    long check(long nowNanos);
  }

  public static final long DONE = Long.MIN_VALUE;

  private final EventExecutor loop;
  private final Runnable fire = this::fire;
  private Watched current;
  private ScheduledFuture<?> timer;
  private long firesAtNanos;

  public Watchdog(EventExecutor loop) {
    this.loop = loop;
  }

  /** The loop's clock, which every deadline given to this watchdog is on. */
  public long nanoTime() {
    return loop.ticker().nanoTime();
  }

  /** Watches {@code w} (instead of whatever was watched), looking first at {@code atNanos}. */
  public void watch(Watched w, long atNanos) {
    current = w;
    lookAt(atNanos);
  }

  /** Stops watching {@code w}; a pending wake-up is left to find nothing. */
  public void release(Watched w) {
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
    timer = loop.schedule(fire, Math.max(0, atNanos - nanoTime()), TimeUnit.NANOSECONDS);
  }

  private void fire() {
    timer = null;
    Watched w = current;
    if (w == null) {
      return;
    }
    long next = w.check(nanoTime()); // may fail w, and its owner may watch something else
    if (next != DONE && current == w) {
      lookAt(next);
    }
  }
}
