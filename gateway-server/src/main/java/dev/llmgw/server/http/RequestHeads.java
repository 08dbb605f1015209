package dev.llmgw.server.http;

import dev.llmgw.core.exchange.RequestContext;
import dev.llmgw.core.log.Outcome;
import dev.llmgw.core.log.RequestLogBuilder;
import dev.llmgw.core.log.RequestLogListener;
import dev.llmgw.core.trace.RequestTrace;
import dev.llmgw.core.trace.Tracing;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Opens a request's {@link RequestContext} when its head arrives (between the HTTP decoder and the
 * aggregator) and parks it on the channel while the body arrives: the 413 of the aggregator, the 408
 * of the receive timeout and the request handler all take it from there, so each request has one
 * record from its first line on, whoever answers it. With tracing on, the request's server span starts
 * here too (continuing the client's {@code traceparent}) and ends with the record.
 */
@ChannelHandler.Sharable
public final class RequestHeads extends ChannelInboundHandlerAdapter {
  private final RequestLogListener sinks;
  private final Tracing tracing;

  /**
   * @param sinks   told of every ended request (access log, metrics, ledger)
   * @param tracing where each request's trace starts ({@link Tracing#OFF}: none)
   */
  public RequestHeads(RequestLogListener sinks, Tracing tracing) {
    this.sinks = sinks;
    this.tracing = tracing;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest head) {
      RequestContext previous = ctx.channel().attr(RequestContext.RECEIVING).getAndSet(open(ctx, head, sinks, tracing));
      // a head while another is still arriving: the aggregator answered that one itself (417)
      RequestContext.endIfOpen(previous, Outcome.INVALID);
    }
    ctx.fireChannelRead(msg);
  }

  /**
   * A new request's context.
   *
   * @param head its head, or null when it never arrived whole (a request line trickling in too slowly)
   */
  static RequestContext open(ChannelHandlerContext ctx, HttpRequest head, RequestLogListener sinks) {
    return open(ctx, head, sinks, Tracing.OFF);
  }

  /** A new request's context, its trace started by {@code tracing} (its head's W3C context continued). */
  static RequestContext open(ChannelHandlerContext ctx, HttpRequest head, RequestLogListener sinks, Tracing tracing) {
    if (head == null) {
      RequestLogBuilder log = new RequestLogBuilder(RequestIds.newId(), "-", "-", AccessLog.remote(ctx.channel()),
          sinks);
      return new RequestContext(log.log().requestId(), log, false, false);
    }
    String requestId = RequestIds.fromClient(head.headers());
    String uri = head.uri();
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    RequestTrace trace = tracing.enabled() ? tracing.startRequest(head.method().name(), path, head.headers()::get)
        : RequestTrace.NONE;
    RequestLogBuilder log = new RequestLogBuilder(requestId, head.method().name(), path,
        AccessLog.remote(ctx.channel()), trace.around(sinks));
    return new RequestContext(requestId, log, HttpUtil.isKeepAlive(head),
        head.protocolVersion().equals(HttpVersion.HTTP_1_0), trace);
  }
}
