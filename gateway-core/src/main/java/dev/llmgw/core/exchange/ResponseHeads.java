package dev.llmgw.core.exchange;

import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.http.TrustedHeaders;
import dev.llmgw.core.upstream.UpstreamRequests;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The response head a client gets for a relayed backend response: built fresh, with only an
 * allow-list of the backend's headers (content type and length, rate-limit and processing-time
 * information). Hop-by-hop headers, cookies and anything else the backend sent stay behind.
 */
final class ResponseHeads {
  private static final List<AsciiString> FORWARDED = List.of(
      HttpHeaderNames.CONTENT_TYPE,
      HttpHeaderNames.CACHE_CONTROL,
      AsciiString.cached("openai-processing-ms"),
      AsciiString.cached("openai-version"));
  static final AsciiString X_GATEWAY_ATTEMPTS = AsciiString.cached("x-gateway-attempts");
  static final AsciiString X_GATEWAY_FALLBACK = AsciiString.cached("x-gateway-fallback");
  static final AsciiString X_GATEWAY_TIER = AsciiString.cached("x-gateway-tier");
  static final AsciiString X_GATEWAY_RULE = AsciiString.cached("x-gateway-rule");
  static final AsciiString X_GATEWAY_DOWNGRADED = AsciiString.cached("x-gateway-downgraded");
  private static final AsciiString RATE_LIMIT_PREFIX = AsciiString.cached("x-ratelimit-");
  private static final AsciiString EVENT_STREAM = AsciiString.cached("text/event-stream");
  private static final byte[] SSE_DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SSE_END = "\n\n".getBytes(StandardCharsets.US_ASCII);

  private ResponseHeads() {}

  static boolean isEventStream(HttpResponse head) {
    return contentTypeStartsWith(head, EVENT_STREAM);
  }

  static boolean isJson(HttpResponse head) {
    return contentTypeStartsWith(head, HttpHeaderValues.APPLICATION_JSON);
  }

  /** Compares the first Content-Type as the decoder stored it (no conversion to a String). */
  private static boolean contentTypeStartsWith(HttpResponse head, AsciiString type) {
    Iterator<? extends CharSequence> it = head.headers().valueCharSequenceIterator(HttpHeaderNames.CONTENT_TYPE);
    if (!it.hasNext()) {
      return false;
    }
    CharSequence ct = it.next();
    return ct.length() >= type.length() && AsciiString.regionMatches(ct, true, 0, type, 0, type.length());
  }

  /**
   * @param bodyChanges whether the relayed body may differ from the backend's (a stripped usage
   *                    event): the backend's Content-Length is then not passed on (chunked instead)
   */
  static HttpResponse forClient(HttpResponse backend, String requestId, String backendName, boolean keepAlive,
      boolean bodyChanges) {
    return forClient(backend, requestId, backendName, keepAlive, bodyChanges, true);
  }

  /** Whether the backend's Content-Length can be passed on to the client as the body's length. */
  static boolean lengthKnown(HttpResponse backend, boolean bodyChanges) {
    return !bodyChanges && !HttpUtil.isTransferEncodingChunked(backend)
        && backend.headers().contains(HttpHeaderNames.CONTENT_LENGTH);
  }

  /**
   * @param chunkedAllowed false for an HTTP/1.0 client (RFC 9112 §6.1: no chunked coding): a body of
   *                       unknown length is then delimited by closing the connection ({@code keepAlive}
   *                       must be false for it)
   */
  static HttpResponse forClient(HttpResponse backend, String requestId, String backendName, boolean keepAlive,
      boolean bodyChanges, boolean chunkedAllowed) {
    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, backend.status(), TrustedHeaders.HEADERS);
    HttpHeaders in = backend.headers();
    HttpHeaders out = r.headers();
    CharSequence length = null;
    // one pass over the backend's headers as the decoder stored them (no String conversions)
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = in.iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      CharSequence name = e.getKey();
      if (AsciiString.regionMatches(name, true, 0, RATE_LIMIT_PREFIX, 0, RATE_LIMIT_PREFIX.length())) {
        out.add(name, e.getValue());
      } else if (length == null && HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name)) {
        length = e.getValue();
      } else {
        for (AsciiString f : FORWARDED) {
          if (f.contentEqualsIgnoreCase(name)) {
            if (!out.contains(f)) { // the first value, as a single header
              out.set(f, e.getValue());
            }
            break;
          }
        }
      }
    }
    // the gateway's own: none of them is on the allow-list, so add (no lookup for a value to replace)
    if (length != null && !bodyChanges && !HttpUtil.isTransferEncodingChunked(backend)) {
      out.add(HttpHeaderNames.CONTENT_LENGTH, length);
    } else if (chunkedAllowed) {
      out.add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    } // else: neither, the body ends when the connection closes (HTTP/1.0)
    out.add(UpstreamRequests.X_REQUEST_ID, requestId);
    out.add(ClientResponses.X_GATEWAY_BACKEND, backendName);
    if (!keepAlive) {
      out.add(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    return r;
  }

  /** One SSE event carrying an OpenAI error body, ending a stream that already started. */
  static HttpContent sseError(GatewayError error, ByteBufAllocator alloc) {
    byte[] json = error.toJsonBytes();
    ByteBuf buf = alloc.buffer(SSE_DATA.length + json.length + SSE_END.length);
    buf.writeBytes(SSE_DATA).writeBytes(json).writeBytes(SSE_END);
    return new DefaultHttpContent(buf);
  }
}
