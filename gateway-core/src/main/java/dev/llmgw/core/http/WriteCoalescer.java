package dev.llmgw.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

/**
 * Copies the small buffers an HTTP encoder writes between two flushes into one, so the socket gets
 * one buffer per flush instead of three per chunk. The HTTP/1.1 encoder writes each chunk of a chunked
 * body as three buffers (its size line, the content, a CRLF): for a stream of small SSE events that is
 * three outbound-buffer entries, three reference counts and three iovecs per event for ~250 bytes.
 * Copying them costs less than carrying them (measured with {@code bench/ab.sh}; docs/benchmarks.md).
 *
 * <p>Only buffers written with the void promise are gathered (nobody waits on their outcome, and a
 * failed write of the gathered buffer reaches {@code exceptionCaught} as theirs would); a buffer larger
 * than {@link #MAX_PIECE}, any other message and any write with a real promise first writes what was
 * gathered, so the order on the wire never changes. Gathered bytes are written on at the next flush,
 * or once they pass {@link #MAX_GATHERED} (so the channel's writability still sees them soon); at a
 * close they are released, as Netty drops unflushed writes there (without an exception for each).
 *
 * <p>Sits just below the HTTP codec: on client channels next to the socket, on backend channels above
 * TLS where there is TLS. One per channel, on its event loop. Owns every buffer it is given: copied
 * and released, or passed on.
 */
public final class WriteCoalescer extends ChannelOutboundHandlerAdapter {
  /** Buffers up to this size are copied; larger ones are passed on as they are. */
  static final int MAX_PIECE = 2048;
  /** Gathered bytes beyond this are written on without waiting for the flush. */
  static final int MAX_GATHERED = 16 * 1024;
  /** A flush's worth of small writes without growing (a response head and a ~1 KB body, a batch of events). */
  private static final int INITIAL = 4096;

  private ByteBuf gathered;

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (promise.isVoid() && msg instanceof ByteBuf buf && buf.readableBytes() <= MAX_PIECE) {
      try {
        gather(ctx, buf);
      } finally {
        buf.release();
      }
      return;
    }
    writeGathered(ctx);
    ctx.write(msg, promise);
  }

  private void gather(ChannelHandlerContext ctx, ByteBuf buf) {
    int n = buf.readableBytes();
    if (n == 0) {
      return;
    }
    if (gathered != null && gathered.readableBytes() + n > MAX_GATHERED) {
      writeGathered(ctx);
    }
    if (gathered == null) {
      gathered = ctx.alloc().directBuffer(Math.max(INITIAL, n));
    }
    gathered.writeBytes(buf, buf.readerIndex(), n);
  }

  private void writeGathered(ChannelHandlerContext ctx) {
    ByteBuf g = gathered;
    if (g != null) {
      gathered = null;
      ctx.write(g, ctx.voidPromise());
    }
  }

  @Override
  public void flush(ChannelHandlerContext ctx) {
    writeGathered(ctx);
    ctx.flush();
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    dropGathered(); // never flushed: Netty drops unflushed writes at a close too
    ctx.close(promise);
  }

  @Override
  public void disconnect(ChannelHandlerContext ctx, ChannelPromise promise) {
    dropGathered();
    ctx.disconnect(promise);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    dropGathered();
  }

  private void dropGathered() {
    if (gathered != null) {
      gathered.release();
      gathered = null;
    }
  }
}
