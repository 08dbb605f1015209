package dev.llmgw.core.exchange;

import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.http.TrustedHeaders;
import dev.llmgw.core.log.Outcome;
import dev.llmgw.core.log.RequestLogBuilder;
import dev.llmgw.core.upstream.UpstreamRequests;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.netty.util.AttributeKey;

/** Writes complete (non-streamed) responses to a client: errors in the OpenAI shape, and JSON. */
public final class ClientResponses {
  public static final AsciiString X_GATEWAY_BACKEND = AsciiString.cached("x-gateway-backend");

  /** Set on a client channel when a response that closes it is written (see {@link #closeAfter}). */
  private static final AttributeKey<Boolean> CLOSING = AttributeKey.valueOf("llmgw.closing");

  private ClientResponses() {}

  /**
   * The client connection closes once {@code written} is done, and from now on nothing more is read
   * from it or served on it: requests pipelined behind the closing one are never answered (as HTTP
   * wants after {@code Connection: close} or an HTTP/1.0 request). A close is asynchronous — with
   * io_uring it completes in a later turn of the loop, after the write's completion comes back — so
   * "still active" does not mean "still open for requests"; {@link #closing} says which.
   */
  public static ChannelFuture closeAfter(ChannelFuture written) {
    markClosing(written.channel());
    return written.addListener(ChannelFutureListener.CLOSE);
  }

  /** The connection is about to close: stop reading, and serve no further request on it. */
  public static void markClosing(Channel client) {
    client.attr(CLOSING).set(Boolean.TRUE);
    client.config().setAutoRead(false);
  }

  /** Closed, or closing after a response already written: no request on it may be served any more. */
  public static boolean closing(Channel client) {
    return !client.isActive() || client.hasAttr(CLOSING) && client.attr(CLOSING).get() != null;
  }

  /**
   * Writes an error response and flushes it; closes the connection after it when {@code keepAlive}
   * is false.
   */
  public static ChannelFuture writeError(ChannelOutboundInvoker ctx, GatewayError error, String requestId,
      boolean keepAlive, RequestLogBuilder log) {
    if (log != null) {
      log.error(error.code() == null ? error.type() : error.code());
    }
    return writeJson(ctx, HttpResponseStatus.valueOf(error.status()), error.toJsonBytes(), requestId,
        keepAlive, log);
  }

  /** Writes a JSON response and flushes it. */
  public static ChannelFuture writeJson(ChannelOutboundInvoker ctx, HttpResponseStatus status, byte[] json,
      String requestId, boolean keepAlive, RequestLogBuilder log) {
    return write(ctx, response(status, Unpooled.wrappedBuffer(json), requestId, keepAlive), keepAlive, log);
  }

  /**
   * How a request answered with {@code error} by the gateway itself ended: refused by access control
   * (401, 403, 429), invalid (any other 4xx), or failed (5xx).
   */
  public static Outcome outcomeOf(GatewayError error) {
    int s = error.status();
    if (s >= 500) {
      return Outcome.FAILED;
    }
    return s == 401 || s == 403 || s == 429 ? Outcome.REFUSED : Outcome.INVALID;
  }

  /** A {@code Retry-After} value: whole seconds, rounded up, at least 1. */
  public static String retryAfterSeconds(long millis) {
    return Long.toString(Math.max(1, (millis + 999) / 1000));
  }

  /** A JSON response with the standard headers; the caller may add more before {@link #write}. */
  public static FullHttpResponse response(HttpResponseStatus status, ByteBuf json, String requestId,
      boolean keepAlive) {
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, json, TrustedHeaders.HEADERS,
        TrustedHeaders.TRAILERS);
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, json.readableBytes());
    if (requestId != null) {
      r.headers().set(UpstreamRequests.X_REQUEST_ID, requestId);
    }
    if (!keepAlive) {
      r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    return r;
  }

  /** Takes ownership of {@code r}: writes and flushes it, closing afterwards unless keep-alive. */
  public static ChannelFuture write(ChannelOutboundInvoker ctx, FullHttpResponse r, boolean keepAlive,
      RequestLogBuilder log) {
    if (log != null) {
      log.responded(r.status().code(), r.content().readableBytes());
    }
    ChannelFuture f = ctx.writeAndFlush(r);
    return keepAlive ? f : closeAfter(f);
  }
}
