package dev.llmgw.server.http;

import dev.llmgw.core.exchange.Watchdog;
import io.netty.channel.ChannelHandlerContext;
import java.util.function.BooleanSupplier;

/**
 * Closes a client connection that has had no request for {@code limits.clientIdleTimeout}: one that
 * never sent anything, or a keep-alive connection whose last answer ended that long ago. A connection
 * with a request in flight, queued or arriving is never idle (its exchange and the receive timeout have
 * deadlines of their own).
 *
 * <p>Instead of Netty's {@code IdleStateHandler}, which watches writes through a promise and a listener
 * on every outbound message (a fresh promise per SSE event, per chunk-size line and per CRLF of a
 * streamed answer): here the connection is marked active twice per request, and one lazy timer per
 * connection ({@link Watchdog}) looks at it about once per timeout period.
 *
 * <p>Confined to the connection's event loop.
 */
final class KeepAliveTimeout implements Watchdog.Watched {
  private final ChannelHandlerContext ctx;
  private final long timeoutNanos;
  private final BooleanSupplier busy;
  private final Watchdog watchdog;
  private long lastActiveNanos;

  /** Starts watching at once: a connection that never sends a request is closed after the timeout. */
  KeepAliveTimeout(ChannelHandlerContext ctx, long timeoutNanos, BooleanSupplier busy) {
    this.ctx = ctx;
    this.timeoutNanos = timeoutNanos;
    this.busy = busy;
    this.watchdog = new Watchdog(ctx.executor());
    this.lastActiveNanos = watchdog.nanoTime();
    watchdog.watch(this, lastActiveNanos + timeoutNanos);
  }

  /** A request arrived, or an answer ended: the idle period starts again. */
  void active() {
    lastActiveNanos = watchdog.nanoTime();
  }

  @Override
  public long check(long nowNanos) {
    if (!ctx.channel().isActive()) {
      return Watchdog.DONE;
    }
    if (busy.getAsBoolean()) {
      return nowNanos + timeoutNanos; // not idle while serving; looked at again a period later
    }
    long deadline = lastActiveNanos + timeoutNanos;
    if (nowNanos < deadline) {
      return deadline;
    }
    ctx.close();
    return Watchdog.DONE;
  }

  /** The connection closed. */
  void close() {
    watchdog.close();
  }
}
