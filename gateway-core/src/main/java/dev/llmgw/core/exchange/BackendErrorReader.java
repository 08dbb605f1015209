package dev.llmgw.core.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.config.Secrets;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.resilience.FailureClassifier;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/**
 * Reads a backend's non-2xx response body (capped; error bodies are small, and this happens before
 * anything reaches the client) and hands its status, error code and message to the
 * {@link FailureClassifier}. Also reads {@code retry-after-ms} / {@code Retry-After}.
 */
final class BackendErrorReader {
  private final String backend;
  private final String providerKey;
  private final int status;
  private final int cap;
  private final Duration retryAfter;
  private final ByteArrayOutputStream body = new ByteArrayOutputStream(256);

  /** @param providerKey the backend's key, so that a body echoing it is never passed on (or null) */
  BackendErrorReader(String backend, String providerKey, HttpResponse head, int cap) {
    this.backend = backend;
    this.providerKey = providerKey;
    this.status = head.status().code();
    this.cap = cap;
    this.retryAfter = retryAfter(head.headers());
  }

  /** Borrows {@code chunk}: copies what fits under the cap. */
  void append(ByteBuf chunk) {
    int n = Math.min(chunk.readableBytes(), cap - body.size());
    if (n > 0) {
      byte[] b = new byte[n];
      chunk.getBytes(chunk.readerIndex(), b);
      body.write(b, 0, n);
    }
  }

  /** The wait the backend asked for, or null. */
  Duration retryAfter() {
    return retryAfter;
  }

  FailureClassifier.Failure classify() {
    JsonNode err = parseError();
    String message = text(err, "message");
    String param = text(err, "param");
    if (Secrets.mentions(message, providerKey) || Secrets.mentions(param, providerKey)) {
      // a provider that echoes (part of) the gateway's key: keep the status and code, drop the text
      message = "(the backend's message is withheld: it contained credential material)";
      param = null;
    }
    return FailureClassifier.ofStatus(backend, status, text(err, "code"), text(err, "type"), param, message);
  }

  static Duration retryAfter(HttpHeaders h) {
    try {
      String ms = h.get("retry-after-ms");
      if (ms != null) {
        return Duration.ofMillis(Math.max(0, (long) Double.parseDouble(ms.trim())));
      }
      String ra = h.get("retry-after");
      if (ra == null) {
        return null;
      }
      ra = ra.trim();
      if (!ra.isEmpty() && Character.isDigit(ra.charAt(0))) {
        return Duration.ofMillis(Math.max(0, (long) (Double.parseDouble(ra) * 1000)));
      }
      ZonedDateTime at = ZonedDateTime.parse(ra, DateTimeFormatter.RFC_1123_DATE_TIME);
      Duration d = Duration.between(ZonedDateTime.now(at.getZone()), at);
      return d.isNegative() ? Duration.ZERO : d;
    } catch (RuntimeException unparseable) {
      return null;
    }
  }

  private JsonNode parseError() {
    if (body.size() == 0) {
      return null;
    }
    try {
      JsonNode root = RequestParser.JSON.readTree(body.toByteArray());
      JsonNode e = root == null ? null : root.get("error");
      if (e != null && e.isObject()) {
        return e;
      }
      if (e != null && e.isTextual()) { // {"error": "text"} (Ollama, some proxies)
        return RequestParser.JSON.createObjectNode().put("message", e.textValue());
      }
      return null;
    } catch (IOException notJson) {
      return RequestParser.JSON.createObjectNode()
          .put("message", new String(body.toByteArray(), StandardCharsets.UTF_8));
    }
  }

  private static String text(JsonNode err, String field) {
    if (err == null) {
      return null;
    }
    JsonNode v = err.get(field);
    return v == null || v.isNull() ? null : v.isValueNode() ? v.asText() : v.toString();
  }
}
