package dev.llmgw.core.resilience;

import dev.llmgw.core.error.GatewayError;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * The one place that decides what a failed attempt was. Inputs are what happened (a backend status
 * with its error code and message, an exception, a timeout); the output is a {@link Failure}: the
 * {@link FailureClass} that drives retry, fallback and breaker, and the error the client would get
 * if this were the last attempt.
 *
 * <p>Status codes alone can lie (house style §8.6): a 400 that says the context is too long is a
 * reason to try a larger model, not a caller fault; a 429 {@code insufficient_quota} is not a
 * transient rate limit.
 */
public final class FailureClassifier {
  private FailureClassifier() {}

  /** A classified failure. */
  public record Failure(FailureClass failureClass, GatewayError clientError) {}

  /**
   * A non-2xx response from a backend.
   *
   * @param code    the error's {@code code} (or {@code type}) from the body, or null
   * @param message the error's message from the body, or null
   */
  public static Failure ofStatus(String backend, int status, String code, String type, String param,
      String message) {
    if (status == 429) {
      boolean quota = "insufficient_quota".equals(code) || "insufficient_quota".equals(type);
      return new Failure(quota ? FailureClass.QUOTA_EXHAUSTED : FailureClass.RATE_LIMITED,
          GatewayError.providerLimited(backend, quota));
    }
    if (status == 401 || status == 403) {
      // never pass the body on: providers echo part of the key in it
      return new Failure(FailureClass.PROVIDER_AUTH, GatewayError.providerAuthFailed(backend, status));
    }
    if (isContextLength(code, type, message)) {
      return new Failure(FailureClass.CONTEXT_LENGTH, GatewayError.contextLengthExceeded(message));
    }
    if (status == 404 || status >= 500 || status < 400) {
      // 404: the alias points at a model or path the backend does not have (a config fault, not the caller's)
      return new Failure(status >= 500 ? FailureClass.OVERLOADED : FailureClass.MALFORMED_RESPONSE,
          GatewayError.backendFailed(backend, "HTTP " + status + (message == null ? "" : ": " + clip(message))));
    }
    return new Failure(FailureClass.CALLER_FAULT, GatewayError.backendRejected(backend, status, type, code, param,
        message));
  }

  /** A failure to get a connection. */
  public static Failure ofConnect(String backend, Throwable cause) {
    if (cause instanceof ConnectTimeoutException) {
      return new Failure(FailureClass.CONNECT_TIMEOUT, GatewayError.backendTimeout(backend, "connect"));
    }
    if (cause instanceof TimeoutException) { // pool acquire: every connection busy for too long
      return new Failure(FailureClass.CONNECT_TIMEOUT, GatewayError.backendTimeout(backend, "connection-pool acquire"));
    }
    if (cause instanceof ConnectException) {
      return new Failure(FailureClass.CONNECT_FAILURE, GatewayError.backendUnavailable(backend, "connection refused"));
    }
    if (cause instanceof UnknownHostException) {
      return new Failure(FailureClass.CONNECT_FAILURE, GatewayError.backendUnavailable(backend, "unknown host"));
    }
    return ofIo(backend, cause, false);
  }

  /**
   * An I/O failure on an established connection.
   *
   * @param responseStarted whether a response head had arrived (a break after it is a protocol fault)
   */
  public static Failure ofIo(String backend, Throwable cause, boolean responseStarted) {
    if (cause instanceof SSLException || cause instanceof NotSslRecordException
        || cause instanceof DecoderException && cause.getCause() instanceof SSLException) {
      return new Failure(FailureClass.CONNECT_FAILURE, GatewayError.backendUnavailable(backend, "TLS handshake failed"));
    }
    if (cause instanceof DecoderException || responseStarted) {
      return new Failure(FailureClass.MALFORMED_RESPONSE, GatewayError.backendFailed(backend, "malformed response"));
    }
    return new Failure(FailureClass.CONNECT_FAILURE, GatewayError.backendUnavailable(backend,
        "I/O error (" + cause.getClass().getSimpleName() + ")"));
  }

  /** The backend closed the connection before the response ended. */
  public static Failure ofClosed(String backend, boolean responseStarted) {
    return responseStarted
        ? new Failure(FailureClass.MALFORMED_RESPONSE,
            GatewayError.backendFailed(backend, "connection closed before the response ended"))
        : new Failure(FailureClass.CONNECT_FAILURE,
            GatewayError.backendUnavailable(backend, "connection closed before a response"));
  }

  /** A 2xx response whose body is not what the endpoint answers (not one well-formed JSON object). */
  public static Failure malformed(String backend, String why) {
    return new Failure(FailureClass.MALFORMED_RESPONSE, GatewayError.backendFailed(backend, why));
  }

  /** An event stream that ended without its {@code data: [DONE]} event: a truncated answer. */
  public static Failure incompleteStream(String backend) {
    return new Failure(FailureClass.MALFORMED_RESPONSE,
        GatewayError.backendFailed(backend, "the stream ended without its [DONE] event"));
  }

  /** A timeout of the given kind. */
  public static Failure ofTimeout(String backend, FailureClass kind) {
    String which = switch (kind) {
      case TTFB_TIMEOUT -> "first-byte";
      case IDLE_TIMEOUT -> "idle";
      case TOTAL_TIMEOUT -> "total";
      default -> "connect";
    };
    return new Failure(kind, GatewayError.backendTimeout(backend, which));
  }

  /** A backend that was not attempted (breaker open, bulkhead full, rate-limited by us, unhealthy). */
  public static Failure unavailable(String backend, String why) {
    return new Failure(FailureClass.UNAVAILABLE, GatewayError.backendSkipped(backend, why));
  }

  static boolean isContextLength(String code, String type, String message) {
    if ("context_length_exceeded".equals(code) || "exceed_context_size_error".equals(type)
        || "exceed_context_size_error".equals(code)) {
      return true;
    }
    if (message == null) {
      return false;
    }
    String m = message.toLowerCase(Locale.ROOT);
    return m.contains("maximum context length") || m.contains("context size") || m.contains("context window")
        || m.contains("context_length_exceeded");
  }

  private static String clip(String s) {
    String oneLine = s.replaceAll("[\\r\\n\\t]+", " ").trim();
    return oneLine.length() > 300 ? oneLine.substring(0, 300) + "..." : oneLine;
  }
}
