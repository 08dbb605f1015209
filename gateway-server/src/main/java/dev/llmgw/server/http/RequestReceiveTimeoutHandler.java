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

  /**
   * Shared between the two positions of the handler on one channel. The timer is lazy: it is not
   * scheduled and cancelled per request (two timer-queue operations each), but armed when a request
   * starts and none is pending; when it fires it checks the request being received now (if any) and
   * re-arms for that one's deadline. Requests on a busy keep-alive connection thus cost a clock read
   * each, and the timer about one wake-up per timeout period.
   */
  static final class State {
    ScheduledFuture<?> timer;
    boolean receiving;
    long startNanos;
    Runnable check;
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
      state.startNanos = ctx.executor().ticker().nanoTime();
      if (state.timer == null) {
        arm(ctx, timeoutNanos);
      }
    } else if (msg instanceof FullHttpRequest) {
      state.receiving = false; // the pending timer, if any, finds nothing to do (or a later request)
    }
    ctx.fireChannelRead(msg);
  }

  private void arm(ChannelHandlerContext ctx, long delayNanos) {
    if (state.check == null) {
      state.check = () -> check(ctx);
    }
    state.timer = ctx.executor().schedule(state.check, delayNanos, TimeUnit.NANOSECONDS);
  }

  private void check(ChannelHandlerContext ctx) {
    state.timer = null;
    if (!state.receiving || !ctx.channel().isActive()) {
      return;
    }
    long left = state.startNanos + timeoutNanos - ctx.executor().ticker().nanoTime();
    if (left > 0) {
      arm(ctx, left); // a later request than the one this timer was armed for
      return;
    }
    state.receiving = false;
    // through the whole pipeline (the HTTP encoder sits after this handler)
    ClientResponses.writeError(ctx.channel(), new GatewayError(408, GatewayError.INVALID_REQUEST,
        "request_timeout", null, "The request was not received in time."), RequestIds.newId(), false, null)
        .addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    state.receiving = false;
    if (state.timer != null) {
      state.timer.cancel(false);
      state.timer = null;
    }
    ctx.fireChannelInactive();
  }
}
