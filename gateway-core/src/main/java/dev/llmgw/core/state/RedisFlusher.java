package dev.llmgw.core.state;

import io.lettuce.core.ScriptOutputType;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Writes back, every {@value RedisStore#FLUSH_MILLIS} ms on its own thread ({@code gateway-state-flush}):
 * the usage counted since the last flush, and for each {@link Allowance} the spend settled and the
 * capacity no longer needed ({@code account-flush.lua} for budget accounts, which also renews this
 * gateway's lease; {@code bucket-return.lua} for rate buckets). Each write runs once in Redis (its
 * marker) and goes through the link, which queues it for replay while Redis is down. Idle, empty
 * allowances leave the lease map here.
 */
final class RedisFlusher {
  private final RedisLink link;
  private final RedisKeys keys;
  private final RedisLeases leases;
  private final RedisUsage usage;
  private final RedisScript flushScript = RedisScript.load("account-flush.lua");
  private final RedisScript returnScript = RedisScript.load("bucket-return.lua");
  private final ScheduledExecutorService flusher;

  RedisFlusher(RedisLink link, RedisKeys keys, RedisLeases leases, RedisUsage usage) {
    this.link = link;
    this.keys = keys;
    this.leases = leases;
    this.usage = usage;
    this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "gateway-state-flush");
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts flushing every {@value RedisStore#FLUSH_MILLIS} ms. */
  void start() {
    flusher.scheduleWithFixedDelay(() -> flush(false), RedisStore.FLUSH_MILLIS, RedisStore.FLUSH_MILLIS,
        TimeUnit.MILLISECONDS);
  }

  /** Stops the periodic flush and waits (bounded) for one in progress; then a last {@code flush(true)}. */
  void stop() {
    flusher.shutdownNow();
    try {
      flusher.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Writes settled spend and gives back what is not needed; renews held budget leases; adds usage.
   * {@code closing}: everything held goes back, whether idle or not.
   */
  void flush(boolean closing) {
    long now = System.nanoTime();
    usage.flush();
    for (Allowance a : leases.all()) {
      Allowance.Writeback w;
      synchronized (a) {
        w = a.takeWriteback(now, closing);
        if (a.retired) {
          leases.drop(a);
        }
      }
      if (w == null) {
        continue;
      }
      String marker = keys.marker();
      Supplier<CompletionStage<?>> call;
      if (a.budget) {
        String[] scriptKeys = {a.accountKeys[0], a.accountKeys[1], a.accountKeys[2], marker};
        String[] args = {keys.instance(), Long.toString(w.spent()), Long.toString(w.back()),
            Long.toString(RedisStore.LEASE_MILLIS), Long.toString(a.expiryMillis)};
        call = () -> flushScript.<Long>run(link.async(), ScriptOutputType.INTEGER, scriptKeys, args)
            .thenAccept(used -> leases.view(a.key, used));
      } else {
        String[] scriptKeys = {a.key, marker};
        String[] args = {Long.toString(a.limit), Long.toString(w.back())};
        call = () -> returnScript.run(link.async(), ScriptOutputType.INTEGER, scriptKeys, args);
      }
      link.send(call, "flush");
    }
  }
}
