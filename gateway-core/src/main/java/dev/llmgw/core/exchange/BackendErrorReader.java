package dev.llmgw.core.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.ingress.RequestParser;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponse;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads a backend's non-2xx response (capped; error bodies are small) and turns it into the one
 * error the client gets. The mapping keeps caller faults as they are and hides the backend's own
 * trouble behind a 502:
 *
 * <ul>
 *   <li>400, 413, 422 and other client errors: same status, the backend's OpenAI error fields;
 *   <li>401/403: 502 — the gateway's provider key was refused; the backend's body is never passed on
 *       (providers echo part of the key in it);
 *   <li>404: 502 — the alias points at a model or path the backend does not have (a config fault);
 *   <li>429: 429, code kept ({@code insufficient_quota} or rate limit), provider text dropped;
 *   <li>5xx and anything else: 502 with the backend's status.
 * </ul>
 */
final class BackendErrorReader {
  private final String backend;
  private final int status;
  private final int cap;
  private final ByteArrayOutputStream body = new ByteArrayOutputStream(256);

  BackendErrorReader(String backend, HttpResponse head, int cap) {
    this.backend = backend;
    this.status = head.status().code();
    this.cap = cap;
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

  GatewayError toClientError() {
    JsonNode err = parseError();
    String message = text(err, "message");
    String code = text(err, "code");
    if (status == 401 || status == 403) {
      return new GatewayError(502, GatewayError.SERVER_ERROR, "backend_auth_failed", null,
          "The backend '" + backend + "' refused the gateway's credentials (HTTP " + status
              + "); an operator must check its provider key.");
    }
    if (status == 429) {
      boolean quota = "insufficient_quota".equals(code);
      return new GatewayError(429, quota ? "insufficient_quota" : "rate_limit_error",
          quota ? "insufficient_quota" : "rate_limit_exceeded", null,
          "The backend '" + backend + "' is " + (quota ? "out of quota" : "rate-limiting requests")
              + "; retry later.");
    }
    if (status == 404 || status >= 500 || status < 400) {
      return GatewayError.backendFailed(backend, "HTTP " + status + (message == null ? "" : ": " + clip(message)));
    }
    String type = text(err, "type");
    return new GatewayError(status, type == null ? GatewayError.INVALID_REQUEST : type, code,
        text(err, "param"),
        message == null ? "The backend '" + backend + "' rejected the request (HTTP " + status + ")." : message);
  }

  void release() {
    // heap copy only: nothing to release; kept for symmetry with a future pooled implementation
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
    } catch (java.io.IOException notJson) {
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

  private static String clip(String s) {
    String oneLine = s.replaceAll("[\\r\\n\\t]+", " ").trim();
    return oneLine.length() > 300 ? oneLine.substring(0, 300) + "..." : oneLine;
  }
}
