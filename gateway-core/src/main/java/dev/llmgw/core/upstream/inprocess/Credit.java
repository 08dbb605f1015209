package dev.llmgw.core.upstream.inprocess;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;

/**
 * Flow control over an in-VM connection: how many response chunks the gateway side has taken.
 *
 * <p>An in-VM channel hands every written message straight to the peer's inbound queue, so the
 * writer's channel is always writable and cannot tell that the gateway has stopped reading (which it
 * does while its client cannot take more, {@code BackendRelayHandler#pause}). So the gateway side
 * sends credits back: the in-process backend keeps at most a window of chunks unacknowledged, and its
 * worker stops pulling tokens from llama.cpp while the window is full and a little text is waiting.
 *
 * @param chunks chunks the gateway side read since its last credit
 */
public record Credit(int chunks) {

  /**
   * On the gateway side of an in-VM backend connection, before its {@code BackendRelayHandler}:
   * counts the response chunks read and, at the end of each read, credits them back.
   */
  public static final class Returner extends ChannelInboundHandlerAdapter {
    private int read;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpContent) {
        read++;
      }
      ctx.fireChannelRead(msg);
    }

    /**
     * Credits what this read took, in a task of its own: an in-VM peer may deliver a chunk while this
     * channel is inside its own flush, and a flush nested there is dropped by Netty — the credit would
     * wait for a flush that never comes while the backend waits for the credit.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (read > 0) {
        Credit credit = new Credit(read);
        ctx.executor().execute(() -> {
          if (ctx.channel().isActive()) {
            ctx.writeAndFlush(credit);
          }
        });
      }
      read = 0;
      ctx.fireChannelReadComplete();
    }
  }
}
