package dev.llmgw.server.http;

import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.exchange.ClientResponses;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Slow-client defence: a request must arrive whole within {@code limits.requestReceiveTimeout} of its
 * first byte, however slowly it trickles (slowloris sends a header byte every few seconds and so never
 * looks idle). Sits first in the pipeline to see raw bytes, and learns that the request is complete
 * when the aggregated request passes it on the way to the gateway handler (it is added again, after
 * the aggregator, under a second name). On expiry: a 408 in the OpenAI shape, and the connection
 * closes.
 */
public final class RequestReceiveTimeoutHandler extends ChannelDuplexHandler {
  private final long timeoutNanos;
  private final State state;

  /** Shared between the two positions of the handler on one channel. */
  static final class State {
    ScheduledFuture<?> timer;
    boolean receiving;
  }

  private RequestReceiveTimeoutHandler(Duration timeout, State state) {
    this.timeoutNanos = timeout.toNanos();
    this.state = state;
  }

  /** The pair: {@code [0]} goes first in the pipeline, {@code [1]} right after the aggregator. */
  public static RequestReceiveTimeoutHandler[] pair(Duration timeout) {
    State s = new State();
    return new RequestReceiveTimeoutHandler[] {new RequestReceiveTimeoutHandler(timeout, s),
        new RequestReceiveTimeoutHandler(timeout, s)};
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf b && b.isReadable() && !state.receiving) {
      state.receiving = true;
      state.timer = ctx.executor().schedule(() -> expire(ctx), timeoutNanos, TimeUnit.NANOSECONDS);
    } else if (msg instanceof FullHttpRequest) {
      stop();
    }
    ctx.fireChannelRead(msg);
  }

  private void expire(ChannelHandlerContext ctx) {
    if (!state.receiving || !ctx.channel().isActive()) {
      return;
    }
    state.receiving = false;
    // through the whole pipeline (the HTTP encoder sits after this handler)
    ClientResponses.writeError(ctx.channel(), new GatewayError(408, GatewayError.INVALID_REQUEST,
        "request_timeout", null, "The request was not received in time."), RequestIds.newId(), false, null)
        .addListener(ChannelFutureListener.CLOSE);
  }

  private void stop() {
    state.receiving = false;
    if (state.timer != null) {
      state.timer.cancel(false);
      state.timer = null;
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    stop();
    ctx.fireChannelInactive();
  }
}
