package dev.llmgw.server.http;

import dev.llmgw.core.exchange.RequestContext;
import dev.llmgw.core.log.Outcome;
import dev.llmgw.core.log.RequestLogBuilder;
import dev.llmgw.core.log.RequestLogListener;
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
 * record from its first line on, whoever answers it.
 */
@ChannelHandler.Sharable
public final class RequestHeads extends ChannelInboundHandlerAdapter {
  private final RequestLogListener sinks;

  /** @param sinks told of every ended request (access log, metrics, ledger) */
  public RequestHeads(RequestLogListener sinks) {
    this.sinks = sinks;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest head) {
      RequestContext previous = ctx.channel().attr(RequestContext.RECEIVING).getAndSet(open(ctx, head, sinks));
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
    if (head == null) {
      RequestLogBuilder log = new RequestLogBuilder(RequestIds.newId(), "-", "-", AccessLog.remote(ctx.channel()),
          sinks);
      return new RequestContext(log.log().requestId(), log, false, false);
    }
    String requestId = RequestIds.fromClient(head.headers());
    String uri = head.uri();
    int q = uri.indexOf('?');
    RequestLogBuilder log = new RequestLogBuilder(requestId, head.method().name(), q < 0 ? uri : uri.substring(0, q),
        AccessLog.remote(ctx.channel()), sinks);
    return new RequestContext(requestId, log, HttpUtil.isKeepAlive(head),
        head.protocolVersion().equals(HttpVersion.HTTP_1_0));
  }
}
