package dev.llmgw.server.http;

import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.exchange.ClientResponses;
import dev.llmgw.core.exchange.RequestContext;
import dev.llmgw.core.log.Outcome;
import dev.llmgw.core.log.RequestLogListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;

/**
 * Aggregates a request body up to {@code maxRequestBytes} (classification needs the whole body).
 * Above the cap the client gets a 413 in the OpenAI error shape and the connection is closed, so the
 * rest of the oversized body is never read; the request's record (opened by {@link RequestHeads}) ends
 * as {@link Outcome#INVALID}.
 */
public final class ClientRequestAggregator extends HttpObjectAggregator {
  private final int maxRequestBytes;
  private final RequestLogListener sinks;

  public ClientRequestAggregator(int maxRequestBytes) {
    this(maxRequestBytes, RequestLogListener.NOOP);
  }

  /** @param sinks told of a refused request that no {@link RequestHeads} opened (tests without one) */
  public ClientRequestAggregator(int maxRequestBytes, RequestLogListener sinks) {
    super(maxRequestBytes, true);
    this.maxRequestBytes = maxRequestBytes;
    this.sinks = sinks;
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
    RequestContext request = RequestContext.takeReceiving(ctx.channel());
    if (request == null) {
      request = RequestHeads.open(ctx, oversized instanceof HttpRequest r ? r : null, sinks);
    }
    ClientResponses.writeError(ctx, GatewayError.tooLarge(maxRequestBytes), request.requestId(), false,
        request.log()); // closes after it
    request.log().end(Outcome.INVALID);
  }
}
