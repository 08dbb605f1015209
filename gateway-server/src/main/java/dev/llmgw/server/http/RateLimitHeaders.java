package dev.llmgw.server.http;

import dev.llmgw.core.access.RateLimits;
import dev.llmgw.core.http.TrustedHeaders;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * The OpenAI {@code x-ratelimit-*} headers for a key's limits: limit, remaining and reset (time
 * until the allowance is full again, e.g. {@code 1.2s}), for requests and for tokens.
 */
final class RateLimitHeaders {
  private RateLimitHeaders() {}

  /** The headers for {@code a}, or null when there is nothing to say (no limits apply). */
  static HttpHeaders of(RateLimits.Admission a) {
    if (a == null || (a.limitRequests() <= 0 && a.limitTokens() <= 0)) {
      return null;
    }
    HttpHeaders h = TrustedHeaders.HEADERS.newHeaders(); // constant names, the gateway's own numbers
    if (a.limitRequests() > 0) {
      h.set("x-ratelimit-limit-requests", a.limitRequests());
      h.set("x-ratelimit-remaining-requests", a.remainingRequests());
      h.set("x-ratelimit-reset-requests", seconds(a.resetRequestsMillis()));
    }
    if (a.limitTokens() > 0) {
      h.set("x-ratelimit-limit-tokens", a.limitTokens());
      h.set("x-ratelimit-remaining-tokens", a.remainingTokens());
      h.set("x-ratelimit-reset-tokens", seconds(a.resetTokensMillis()));
    }
    return h;
  }

  private static String seconds(long millis) {
    return (millis / 1000) + "." + (millis % 1000 / 100) + "s";
  }
}
