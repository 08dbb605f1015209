package dev.llmgw.server.http;

import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.exchange.ClientResponses;
import dev.llmgw.core.exchange.RequestContext;
import dev.llmgw.core.log.Outcome;
import dev.llmgw.core.log.RequestLogListener;
import dev.llmgw.core.exchange.Watchdog;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import java.time.Duration;

/**
 * Slow-client defence: a request must arrive whole within {@code limits.requestReceiveTimeout} of its
 * first byte, however slowly it trickles (slowloris sends a header byte every few seconds and so never
 * looks idle). Sits first in the pipeline to see raw bytes, and learns that the request is complete
 * when the aggregated request passes it on the way to the gateway handler (it is added again, after
 * the aggregator, under a second name). On expiry: a 408 in the OpenAI shape, and the connection
 * closes.
 */
public final class RequestReceiveTimeoutHandler extends ChannelDuplexHandler {
  private final State state;

  /**
   * Shared between the two positions of the handler on one channel: the request being received and
   * the connection's {@link Watchdog} for its deadline (a lazy timer, not a schedule and a cancel per
   * request).
   */
  static final class State implements Watchdog.Watched {
    final long timeoutNanos;
    final RequestLogListener sinks;
    Watchdog watchdog;
    ChannelHandlerContext ctx;
    boolean receiving;
    long startNanos;

    State(long timeoutNanos, RequestLogListener sinks) {
      this.timeoutNanos = timeoutNanos;
      this.sinks = sinks;
    }

    void started(ChannelHandlerContext ctx) {
      if (watchdog == null) {
        this.ctx = ctx;
        watchdog = new Watchdog(ctx.executor());
      }
      receiving = true;
      startNanos = watchdog.nanoTime();
      watchdog.watch(this, startNanos + timeoutNanos);
    }

    @Override
    public long check(long now) {
      if (!receiving || !ctx.channel().isActive()) {
        return Watchdog.DONE; // the request arrived in time (or the connection is gone)
      }
      long deadline = startNanos + timeoutNanos;
      if (now < deadline) {
        return deadline; // a later request than the one the pending wake-up was armed for
      }
      receiving = false;
      // the request whose head arrived (its record is open), or one whose head never came whole
      RequestContext request = RequestContext.takeReceiving(ctx.channel());
      if (request == null) {
        request = RequestHeads.open(ctx, null, sinks);
      }
      // through the whole pipeline (the HTTP encoder sits after this handler)
      ClientResponses.writeError(ctx.channel(), GatewayError.requestTimeout(), request.requestId(), false,
          request.log()); // closes after it
      request.log().end(Outcome.INVALID);
      return Watchdog.DONE;
    }
  }

  private RequestReceiveTimeoutHandler(State state) {
    this.state = state;
  }

  /** The pair: {@code [0]} goes first in the pipeline, {@code [1]} right after the aggregator. */
  public static RequestReceiveTimeoutHandler[] pair(Duration timeout) {
    return pair(timeout, RequestLogListener.NOOP);
  }

  /** @param sinks told of a timed-out request whose head never arrived (metrics, access log) */
  public static RequestReceiveTimeoutHandler[] pair(Duration timeout, RequestLogListener sinks) {
    State s = new State(timeout.toNanos(), sinks);
    return new RequestReceiveTimeoutHandler[] {new RequestReceiveTimeoutHandler(s), new RequestReceiveTimeoutHandler(s)};
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf b && b.isReadable() && !state.receiving) {
      state.started(ctx);
    } else if (msg instanceof FullHttpRequest) {
      state.receiving = false; // a pending wake-up finds nothing to do (or a later request)
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    state.receiving = false;
    if (state.watchdog != null) {
      state.watchdog.close();
    }
    ctx.fireChannelInactive();
  }
}
