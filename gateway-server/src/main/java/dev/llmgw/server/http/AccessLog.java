package dev.llmgw.server.http;

import dev.llmgw.core.log.RequestLog;
import dev.llmgw.core.log.RequestLogListener;
import io.netty.util.internal.ThreadExecutorMap;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request on the {@code access} logger, written when the request's log ends (a
 * {@link RequestLogListener}). Lines carry no header values: no credential can
 * reach the log.
 *
 * <p>Cost: logging one event per request woke logback's async worker (and made one write) per
 * request — a third of the gateway's CPU per request in the benchmark (docs/benchmarks.md). Lines are
 * therefore batched per event loop: appended to a thread-local buffer and handed to logback as one
 * event of many lines every {@value #FLUSH_MILLIS} ms, or at {@value #FLUSH_CHARS} characters.
 * The asynchronous appender still keeps the I/O off the event loop.
 */
public final class AccessLog {
  private static final Logger ACCESS = LoggerFactory.getLogger("access");
  static final int FLUSH_CHARS = 32 * 1024;
  static final long FLUSH_MILLIS = 100;

  private static final FastThreadLocal<Batch> BATCH = new FastThreadLocal<>() {
    @Override
    protected Batch initialValue() {
      return new Batch();
    }
  };

  /** One event loop's pending lines. */
  private static final class Batch {
    final StringBuilder lines = new StringBuilder(FLUSH_CHARS + 512);
    boolean flushScheduled;
    long cachedSecond = -1;
    String cachedPrefix;

    void flush() {
      flushScheduled = false;
      if (lines.length() > 0) {
        ACCESS.info(lines.toString());
        lines.setLength(0);
      }
    }

    /** {@code 2026-11-27T05:30:12.345Z}, formatting the date part once per second. */
    void timestamp(long millis) {
      long second = millis / 1000;
      if (second != cachedSecond) {
        cachedSecond = second;
        cachedPrefix = java.time.Instant.ofEpochSecond(second).toString();
        cachedPrefix = cachedPrefix.substring(0, cachedPrefix.length() - 1) + '.'; // drop the trailing Z
      }
      int ms = (int) (millis % 1000);
      lines.append(cachedPrefix).append((char) ('0' + ms / 100)).append((char) ('0' + ms / 10 % 10))
          .append((char) ('0' + ms % 10)).append('Z');
    }
  }

  /** The listener that writes each ended request's line. */
  public static final RequestLogListener INSTANCE = AccessLog::write;

  private AccessLog() {}

  /** Hands the calling event loop's pending lines to logback now (at shutdown). */
  public static void flushHere() {
    BATCH.get().flush();
  }

  /** Logs a request's line; on an event loop it joins that loop's batch. */
  static void write(RequestLog log) {
    if (!ACCESS.isInfoEnabled()) {
      return;
    }
    EventExecutor loop = ThreadExecutorMap.currentExecutor();
    if (loop == null || !loop.inEventLoop()) {
      StringBuilder one = new StringBuilder(256);
      one.append(java.time.Instant.now()).append(" access ").append(log.toLine()).append('\n');
      ACCESS.info(one.toString());
      return;
    }
    Batch b = BATCH.get();
    b.timestamp(System.currentTimeMillis());
    b.lines.append(" access ");
    log.appendTo(b.lines);
    b.lines.append('\n'); // every line ends itself: AccessLogEncoder writes the batch as it is
    if (b.lines.length() >= FLUSH_CHARS) {
      b.flush();
    } else if (!b.flushScheduled) {
      b.flushScheduled = true;
      loop.schedule(b::flush, FLUSH_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  private static final io.netty.util.AttributeKey<String> REMOTE = io.netty.util.AttributeKey.valueOf("gateway.remote");

  /** The client's address as text, formatted once per connection. */
  static String remote(io.netty.channel.Channel ch) {
    io.netty.util.Attribute<String> attr = ch.attr(REMOTE);
    String r = attr.get();
    if (r == null) {
      r = remote(ch.remoteAddress());
      attr.set(r);
    }
    return r;
  }

  private static String remote(SocketAddress a) {
    if (a instanceof InetSocketAddress i) {
      return i.getAddress() == null ? i.getHostString() + ":" + i.getPort()
          : i.getAddress().getHostAddress() + ":" + i.getPort();
    }
    return String.valueOf(a);
  }
}
