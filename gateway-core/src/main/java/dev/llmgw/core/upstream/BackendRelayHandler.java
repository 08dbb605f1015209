package dev.llmgw.core.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContentDecompressor;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits last on every backend channel for the channel's whole life and hands what the backend sends
 * to the exchange that holds the channel ({@link #attach}), or — while the channel idles in its pool —
 * closes the channel on anything unasked for: a response nobody requested means the connection is out
 * of step and must not carry another request.
 *
 * <p>Installed once when the channel is created (not added and removed per exchange, which cost a
 * pipeline change each way), and the one place that knows how many exchanges the channel carried.
 *
 * <p>Backend channels read on their own ({@code AUTO_READ}, the epoll interest stays set); an exchange
 * whose client cannot take more calls {@link #pause}, and {@link #resume} when it can. Reading by
 * explicit {@code read()} calls instead cost two {@code epoll_ctl} calls per response chunk.
 */
public final class BackendRelayHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(BackendRelayHandler.class);
  private static final String INFLATE = "inflate";

  /** The exchange side of a backend channel. Every callback runs on the channel's event loop. */
  public interface BackendListener {
    /** Takes ownership of {@code msg} (an {@code HttpObject}). */
    void onBackendMessage(Object msg);

    void onBackendReadComplete();

    void onBackendClosed();

    void onBackendError(Throwable cause);
  }

  private final Channel channel;
  private BackendListener listener;
  private int uses;

  BackendRelayHandler(Channel channel) {
    this.channel = channel;
  }

  /** The relay of a pooled backend channel (always its last handler). */
  public static BackendRelayHandler of(Channel ch) {
    return (BackendRelayHandler) ch.pipeline().last();
  }

  /**
   * Gives the channel to an exchange until {@link #detach}. Returns how many exchanges the channel
   * carried before this one (0 on a fresh connection).
   */
  public int attach(BackendListener l) {
    listener = l;
    return uses++;
  }

  /** The exchange lets go of the channel; it reads on its own again (as it must while pooled). */
  public void detach() {
    listener = null;
    resume();
  }

  /** Stops reading from the backend (the client cannot take more). */
  public void pause() {
    channel.config().setAutoRead(false);
  }

  /** Reads from the backend again; a no-op when it already does. */
  public void resume() {
    if (!channel.config().isAutoRead()) {
      channel.config().setAutoRead(true);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpResponse head && inflating(ctx, head)) {
      return; // the head comes back through the decompressor just added
    }
    BackendListener l = listener;
    if (l != null) {
      l.onBackendMessage(msg);
      return;
    }
    ReferenceCountUtil.release(msg);
    if (ctx.channel().isOpen()) {
      LOG.debug("backend {} sent data on an idle pooled connection; closing it", ctx.channel().remoteAddress());
      ctx.close();
    }
  }

  /**
   * Requests ask for identity, and most backends answer so: no decompressor on the path of every message.
   * A backend that compresses anyway (gzip, deflate, br, zstd) gets one on this connection, before this
   * handler, the first time, and {@code head} is passed through it again from the HTTP codec, so that the
   * client gets what the headers say and usage is metered on the decoded body.
   *
   * @return whether the head was handed to the new decompressor (this call must drop it)
   */
  private static boolean inflating(ChannelHandlerContext ctx, HttpResponse head) {
    String encoding = head.headers().get(HttpHeaderNames.CONTENT_ENCODING);
    if (encoding == null || HttpHeaderValues.IDENTITY.contentEqualsIgnoreCase(encoding.trim())
        || ctx.pipeline().get(INFLATE) != null) {
      return false;
    }
    ChannelHandlerContext http = ctx.pipeline().context(HttpClientCodec.class);
    if (http == null) {
      return false;
    }
    ctx.pipeline().addBefore(ctx.name(), INFLATE, new HttpContentDecompressor(0));
    http.fireChannelRead(head);
    return true;
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    BackendListener l = listener;
    if (l != null) {
      l.onBackendReadComplete();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    BackendListener l = listener;
    if (l != null) {
      l.onBackendClosed();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    BackendListener l = listener;
    if (l != null) {
      l.onBackendError(cause);
    } else {
      LOG.debug("backend {} I/O error on an idle pooled connection; closing it", ctx.channel().remoteAddress(), cause);
      ctx.close();
    }
  }
}
