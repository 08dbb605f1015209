package dev.llmgw.core.http;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeadersFactory;

/**
 * Header factories without per-character validation, for the messages the gateway builds itself:
 * every name is a constant and every value comes from a validated source — Netty's decoder (backend
 * response headers), {@code RequestIds} (a client's request id, printable ASCII only), the config
 * loader (provider keys without control characters) or the gateway's own numbers. Validation is
 * per-character work on every request (it showed in the profile, docs/benchmarks.md); client input is
 * still validated where it is decoded.
 */
public final class TrustedHeaders {
  public static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
  public static final HttpHeadersFactory TRAILERS = DefaultHttpHeadersFactory.trailersFactory().withValidation(false);

  private TrustedHeaders() {}
}
