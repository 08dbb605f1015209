package dev.llmgw.core.upstream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Sits last on a backend channel for the duration of one exchange and hands everything the backend
 * sends to that exchange's {@link BackendListener}. It is removed before the channel goes back to
 * its pool.
 */
public final class BackendRelayHandler extends ChannelInboundHandlerAdapter {
  public static final String NAME = "relay";

  /** The exchange side of a backend channel. Every callback runs on the channel's event loop. */
  public interface BackendListener {
    /** Takes ownership of {@code msg} (an {@code HttpObject}). */
    void onBackendMessage(Object msg);

    void onBackendReadComplete();

    void onBackendClosed();

    void onBackendError(Throwable cause);
  }

  private final BackendListener listener;

  public BackendRelayHandler(BackendListener listener) {
    this.listener = listener;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    listener.onBackendMessage(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    listener.onBackendReadComplete();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    listener.onBackendClosed();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    listener.onBackendError(cause);
  }
}
