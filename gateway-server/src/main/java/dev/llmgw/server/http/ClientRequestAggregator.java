package dev.llmgw.server.http;

import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.exchange.ClientResponses;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;

/**
 * Aggregates a request body up to {@code maxRequestBytes} (classification needs the whole body).
 * Above the cap the client gets a 413 in the OpenAI error shape and the connection is closed, so the
 * rest of the oversized body is never read.
 */
public final class ClientRequestAggregator extends HttpObjectAggregator {
  private final int maxRequestBytes;
  private final dev.llmgw.core.exchange.ExchangeEvents events;

  public ClientRequestAggregator(int maxRequestBytes) {
    this(maxRequestBytes, dev.llmgw.core.exchange.ExchangeEvents.NOOP);
  }

  /** @param events told of the refused request like of any other (request metrics, ledger) */
  public ClientRequestAggregator(int maxRequestBytes, dev.llmgw.core.exchange.ExchangeEvents events) {
    super(maxRequestBytes, true);
    this.maxRequestBytes = maxRequestBytes;
    this.events = events;
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
    String requestId = RequestIds.fromClient(oversized.headers());
    var log = AccessLog.start(ctx, requestId, oversized);
    ClientResponses.writeError(ctx, GatewayError.tooLarge(maxRequestBytes), requestId, false, log)
        .addListener(ChannelFutureListener.CLOSE);
    AccessLog.write(ctx, log);
    events.completed(log); // one access-log line and one count in gateway_requests_total, as for any request
  }
}
