package dev.llmgw.core.cache;

import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;
import java.util.Locale;

/**
 * What a request asks of the cache: header {@code x-gateway-cache} or body {@code metadata.gateway_cache}
 * (the header wins). Absent: {@link #USE}. Anything else is a 400 naming where it came from.
 */
public enum CacheDirective {
  /** Serve a stored answer when there is one; otherwise ask a backend and store its answer. */
  USE,
  /** Ask a backend even when an answer is stored, and store the new one. */
  REFRESH,
  /** Neither read nor write the cache. */
  BYPASS;

  public static final String HEADER = "x-gateway-cache";
  public static final String METADATA_FIELD = "gateway_cache";

  /**
   * @param header   the header's value, or null
   * @param metadata {@code metadata.gateway_cache} when it was a string, or null
   * @throws GatewayException 400 for a value that is not a directive
   */
  public static CacheDirective of(String header, String metadata) {
    if (header != null) {
      return parse(header, HEADER);
    }
    return metadata == null ? USE : parse(metadata, "metadata." + METADATA_FIELD);
  }

  private static CacheDirective parse(String value, String param) {
    return switch (value.strip().toLowerCase(Locale.ROOT)) {
      case "use" -> USE;
      case "refresh" -> REFRESH;
      case "bypass" -> BYPASS;
      default -> throw new GatewayException(GatewayError.invalidValue(param, "Invalid '" + param + "': '"
          + (value.length() > 32 ? value.substring(0, 32) + "..." : value)
          + "' is not a cache directive (expected use, refresh or bypass)."));
    };
  }
}
