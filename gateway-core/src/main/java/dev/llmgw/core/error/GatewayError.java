package dev.llmgw.core.error;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;

/**
 * An error answered to a client, in the OpenAI error shape
 * {@code {"error":{"message","type","param","code"}}}, with its HTTP status.
 *
 * <p>Every client-facing failure is built through the factories below so that statuses, types and
 * codes stay consistent (one catalogue to review). Messages never carry secrets: callers pass only
 * request-derived names (model, path) and backend names.
 *
 * @param status  HTTP status
 * @param type    OpenAI error type, e.g. {@code invalid_request_error}, {@code server_error}
 * @param code    machine-readable code, or {@code null}
 * @param param   the request parameter at fault, or {@code null}
 * @param message human-readable explanation
 */
public record GatewayError(int status, String type, String code, String param, String message) {

  public static final String INVALID_REQUEST = "invalid_request_error";
  public static final String SERVER_ERROR = "server_error";

  private static final JsonFactory JSON = new JsonFactory();

  public GatewayError {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(message, "message");
  }

  public static GatewayError malformedJson(String detail) {
    return new GatewayError(400, INVALID_REQUEST, null, null,
        "We could not parse the JSON body of your request. (" + detail + ")");
  }

  public static GatewayError missingParam(String param) {
    return new GatewayError(400, INVALID_REQUEST, "missing_required_parameter", param,
        "Missing required parameter: '" + param + "'.");
  }

  public static GatewayError invalidType(String param, String expected, String got) {
    return new GatewayError(400, INVALID_REQUEST, "invalid_type", param,
        "Invalid type for '" + param + "': expected " + expected + ", but got " + got + " instead.");
  }

  public static GatewayError invalidValue(String param, String message) {
    return new GatewayError(400, INVALID_REQUEST, "invalid_value", param, message);
  }

  /**
   * A number below its minimum, worded as the OpenAI API does ({@code integer_below_min_value} or
   * {@code decimal_below_min_value}).
   *
   * @param integer whether the parameter is an integer (else a decimal)
   * @param min     the smallest value allowed, as it should be printed
   * @param got     the value sent, as it should be printed
   */
  public static GatewayError belowMinimum(String param, boolean integer, String min, String got) {
    String kind = integer ? "integer" : "decimal";
    return new GatewayError(400, INVALID_REQUEST, kind + "_below_min_value", param,
        "Invalid '" + param + "': " + kind + " below minimum value. Expected a value >= " + min + ", but got " + got
            + " instead.");
  }

  /** A number above its maximum ({@code integer_above_max_value} or {@code decimal_above_max_value}). */
  public static GatewayError aboveMaximum(String param, boolean integer, String max, String got) {
    String kind = integer ? "integer" : "decimal";
    return new GatewayError(400, INVALID_REQUEST, kind + "_above_max_value", param,
        "Invalid '" + param + "': " + kind + " above maximum value. Expected a value <= " + max + ", but got " + got
            + " instead.");
  }

  /** No workflow with that id in the caller's namespace (never seen, expired, or another's). */
  public static GatewayError workflowNotFound(String id) {
    return new GatewayError(404, INVALID_REQUEST, "workflow_not_found", null,
        "No workflow '" + id + "' in the ledger (never seen, or expired).");
  }

  public static GatewayError badHttp(String message) {
    return new GatewayError(400, INVALID_REQUEST, "bad_request", null, message);
  }

  public static GatewayError modelNotFound(String model, String why) {
    return new GatewayError(404, INVALID_REQUEST, "model_not_found", "model",
        "The model '" + model + "' does not exist or you do not have access to it." + (why == null ? "" : " " + why));
  }

  public static GatewayError unknownPath(String method, String path) {
    return new GatewayError(404, INVALID_REQUEST, "unknown_url", null,
        "Invalid URL (" + method + " " + path + ").");
  }

  public static GatewayError methodNotAllowed(String method, String path, String allowed) {
    return new GatewayError(405, INVALID_REQUEST, "method_not_allowed", null,
        "Method " + method + " is not allowed on " + path + " (allowed: " + allowed + ").");
  }

  public static GatewayError tooLarge(long limit) {
    return new GatewayError(413, INVALID_REQUEST, "request_too_large", null,
        "Request body is larger than the gateway's limit of " + limit + " bytes.");
  }

  public static GatewayError headersTooLarge() {
    return new GatewayError(431, INVALID_REQUEST, "headers_too_large", null,
        "Request header fields are too large.");
  }

  public static GatewayError uriTooLong() {
    return new GatewayError(414, INVALID_REQUEST, "uri_too_long", null, "Request line is too long.");
  }

  public static GatewayError unsupportedMediaType(String got) {
    return new GatewayError(415, INVALID_REQUEST, "unsupported_media_type", null,
        "Content-Type must be application/json (got '" + got + "').");
  }

  public static GatewayError backendUnavailable(String backend, String why) {
    return new GatewayError(502, SERVER_ERROR, "backend_unavailable", null,
        "The backend '" + backend + "' could not be reached: " + why + ".");
  }

  public static GatewayError backendFailed(String backend, String why) {
    return new GatewayError(502, SERVER_ERROR, "backend_error", null,
        "The backend '" + backend + "' failed: " + why + ".");
  }

  public static GatewayError backendTimeout(String backend, String which) {
    return new GatewayError(504, SERVER_ERROR, "backend_timeout", null,
        "The backend '" + backend + "' did not answer in time (" + which + " timeout).");
  }

  public static GatewayError internal(String why) {
    return new GatewayError(500, SERVER_ERROR, "internal_error", null, "Internal gateway error: " + why + ".");
  }

  public static GatewayError unavailable(String why) {
    return new GatewayError(503, SERVER_ERROR, "unavailable", null, why);
  }

  /** A gateway key (or the admin token's holder) may not use what it asked for (403). */
  public static GatewayError forbidden(String message) {
    return new GatewayError(403, "permission_error", "forbidden", null, message);
  }

  /** No credential, or one the gateway does not know (401; code missing_api_key or invalid_api_key). */
  public static GatewayError unauthorized(String code, String message) {
    return new GatewayError(401, INVALID_REQUEST, code, null, message);
  }

  /** Every candidate was skipped without an attempt (breaker open, bulkhead full, unhealthy...). */
  public static GatewayError noBackendAvailable(String why) {
    return new GatewayError(503, SERVER_ERROR, "backend_unavailable", null,
        "No backend could take the request (" + why + ").");
  }

  /** One backend skipped without an attempt (breaker open, bulkhead full, unhealthy), and why (503). */
  public static GatewayError backendSkipped(String backend, String why) {
    return new GatewayError(503, SERVER_ERROR, "backend_unavailable", null,
        "The backend '" + backend + "' is unavailable: " + why + ".");
  }

  /**
   * The same error with one more sentence of advice after its message (how to point the gateway at a
   * model, when no local model is up); status, type and code unchanged.
   */
  public GatewayError withAdvice(String sentence) {
    return new GatewayError(status, type, code, param, message + " " + sentence);
  }

  /** A provider rate-limits the gateway (429 rate_limit_exceeded) or its quota is spent (insufficient_quota). */
  public static GatewayError providerLimited(String backend, boolean quota) {
    return new GatewayError(429, quota ? "insufficient_quota" : "rate_limit_error",
        quota ? "insufficient_quota" : "rate_limit_exceeded", null,
        "The backend '" + backend + "' is " + (quota ? "out of quota" : "rate-limiting requests") + "; retry later.");
  }

  /** A provider refused the gateway's own credentials (never the caller's fault; the body is not passed on). */
  public static GatewayError providerAuthFailed(String backend, int status) {
    return new GatewayError(502, SERVER_ERROR, "backend_auth_failed", null, "The backend '" + backend
        + "' refused the gateway's credentials (HTTP " + status + "); an operator must check its provider key.");
  }

  /** The request does not fit the model's context window (400, param messages). */
  public static GatewayError contextLengthExceeded(String message) {
    return new GatewayError(400, INVALID_REQUEST, "context_length_exceeded", "messages",
        message == null ? "The request does not fit the model's context window." : message);
  }

  /** A backend's 4xx about the request itself, relayed in the OpenAI shape (its type, code, param, message). */
  public static GatewayError backendRejected(String backend, int status, String type, String code, String param,
      String message) {
    return new GatewayError(status, type == null ? INVALID_REQUEST : type, code, param,
        message == null ? "The backend '" + backend + "' rejected the request (HTTP " + status + ")." : message);
  }

  /** The whole request did not arrive within limits.requestReceiveTimeout (408). */
  public static GatewayError requestTimeout() {
    return new GatewayError(408, INVALID_REQUEST, "request_timeout", null, "The request was not received in time.");
  }

  /** An admin reload found problems: the running config keeps serving (422). */
  public static GatewayError configRefused(long version, java.util.List<String> problems) {
    return new GatewayError(422, INVALID_REQUEST, "config_refused", null, "The new config was refused; version "
        + version + " keeps serving. Problems:\n" + String.join("\n", problems));
  }

  /** More requests pipelined on one connection than the gateway queues behind the one in flight. */
  public static GatewayError tooManyPipelined(int max) {
    return new GatewayError(429, "rate_limit_error", "too_many_pipelined_requests", null,
        "Too many pipelined requests: at most " + max + " may wait behind the one in flight on a connection."
            + " The requests before this one were answered; this one and any sent after it were not processed,"
            + " and the connection closes. Wait for responses, or open more connections.");
  }

  /** A gateway rate limit refused the request (429; the caller adds Retry-After). */
  public static GatewayError rateLimited(String message) {
    return new GatewayError(429, "rate_limit_error", "rate_limit_exceeded", null, message);
  }

  /** A hard budget is spent (429 insufficient_quota, as OpenAI answers an exhausted quota). */
  public static GatewayError insufficientQuota(String message) {
    return new GatewayError(429, "insufficient_quota", "insufficient_quota", null, message);
  }

  /** The shared state store (limits, budgets) cannot answer and its policy is to refuse: retry shortly. */
  public static GatewayError stateUnavailable(String why) {
    return new GatewayError(503, SERVER_ERROR, "state_unavailable", null,
        "The gateway cannot check limits and budgets right now (" + why + "); retry shortly.");
  }

  /** The OpenAI error body as UTF-8 JSON. */
  public byte[] toJsonBytes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(96 + message.length());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeObjectFieldStart("error");
      g.writeStringField("message", message);
      g.writeStringField("type", type);
      g.writeStringField("param", param);
      g.writeStringField("code", code);
      g.writeEndObject();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
