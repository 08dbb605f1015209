package dev.llmgw.core.exchange;

import dev.llmgw.core.error.GatewayError;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.ssl.NotSslRecordException;
import java.net.ConnectException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * Maps transport failures talking to a backend to client errors. (The full failure classifier
 * that also drives retries, fallbacks and breakers is issue #4's; this keeps the statuses right.)
 */
final class ExchangeFailures {
  private ExchangeFailures() {}

  static GatewayError connectFailure(String backend, Throwable cause) {
    if (cause instanceof ConnectTimeoutException) {
      return GatewayError.backendTimeout(backend, "connect");
    }
    if (cause instanceof TimeoutException) { // pool acquire: every connection busy for too long
      return GatewayError.backendTimeout(backend, "connection-pool acquire");
    }
    if (cause instanceof ConnectException) {
      return GatewayError.backendUnavailable(backend, "connection refused");
    }
    if (cause instanceof java.net.UnknownHostException) {
      return GatewayError.backendUnavailable(backend, "unknown host");
    }
    return ioFailure(backend, cause);
  }

  static GatewayError ioFailure(String backend, Throwable cause) {
    if (cause instanceof SSLException || cause instanceof NotSslRecordException
        || cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() instanceof SSLException) {
      return GatewayError.backendUnavailable(backend, "TLS handshake failed");
    }
    if (cause instanceof io.netty.handler.codec.DecoderException) {
      return GatewayError.backendFailed(backend, "malformed response");
    }
    return GatewayError.backendUnavailable(backend, "I/O error (" + cause.getClass().getSimpleName() + ")");
  }
}
