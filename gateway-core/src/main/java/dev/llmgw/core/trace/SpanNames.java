package dev.llmgw.core.trace;

import static io.opentelemetry.api.common.AttributeKey.booleanKey;
import static io.opentelemetry.api.common.AttributeKey.doubleKey;
import static io.opentelemetry.api.common.AttributeKey.longKey;
import static io.opentelemetry.api.common.AttributeKey.stringKey;

import io.opentelemetry.api.common.AttributeKey;
import java.util.Set;

/**
 * Span names and attribute keys: the OpenTelemetry semantic conventions' names where one exists
 * (GenAI, HTTP, server, error), written out here rather than taken from the incubating semconv
 * artifact, plus the gateway's own under {@code gateway.}. Every value put under these keys is
 * bounded: configured names (tier, rule, backend, alias, key, team), fixed sets (failure classes,
 * outcomes, methods), numbers, or ids.
 */
final class SpanNames {
  private SpanNames() {}

  static final String CLASSIFY = "gateway.classify";
  static final String ADMIT = "gateway.admit";
  static final String FIRST_BYTE = "gateway.first_byte";

  // GenAI conventions
  static final AttributeKey<String> OPERATION = stringKey("gen_ai.operation.name");
  static final AttributeKey<String> REQUEST_MODEL = stringKey("gen_ai.request.model");
  static final AttributeKey<String> RESPONSE_MODEL = stringKey("gen_ai.response.model");
  static final AttributeKey<Long> INPUT_TOKENS = longKey("gen_ai.usage.input_tokens");
  static final AttributeKey<Long> OUTPUT_TOKENS = longKey("gen_ai.usage.output_tokens");
  static final AttributeKey<String> PROVIDER = stringKey("gen_ai.provider.name");
  /** The older name of {@link #PROVIDER}, still what many back ends show. */
  static final AttributeKey<String> SYSTEM = stringKey("gen_ai.system");
  // HTTP, server and error conventions
  static final AttributeKey<String> HTTP_METHOD = stringKey("http.request.method");
  static final AttributeKey<String> HTTP_ROUTE = stringKey("http.route");
  static final AttributeKey<Long> HTTP_STATUS = longKey("http.response.status_code");
  static final AttributeKey<String> SERVER_ADDRESS = stringKey("server.address");
  static final AttributeKey<Long> SERVER_PORT = longKey("server.port");
  static final AttributeKey<String> ERROR_TYPE = stringKey("error.type");
  // the gateway's own
  static final AttributeKey<String> REQUEST_ID = stringKey("gateway.request_id");
  static final AttributeKey<String> TIER = stringKey("gateway.tier");
  static final AttributeKey<String> RULE = stringKey("gateway.rule");
  static final AttributeKey<String> SIGNAL = stringKey("gateway.signal");
  static final AttributeKey<Boolean> ASYNC = booleanKey("gateway.classify.async");
  static final AttributeKey<String> DOWNGRADED_FROM = stringKey("gateway.downgraded_from");
  static final AttributeKey<String> BACKEND = stringKey("gateway.backend");
  static final AttributeKey<String> ALIAS = stringKey("gateway.model_alias");
  static final AttributeKey<Long> ATTEMPT = longKey("gateway.attempt.number");
  static final AttributeKey<String> ATTEMPT_KIND = stringKey("gateway.attempt.kind");
  static final AttributeKey<String> ATTEMPT_OUTCOME = stringKey("gateway.attempt.outcome");
  static final AttributeKey<String> FAILURE_CLASS = stringKey("gateway.failure_class");
  static final AttributeKey<String> FALLBACK_REASON = stringKey("gateway.fallback.reason");
  static final AttributeKey<String> RETRY_REASON = stringKey("gateway.retry.reason");
  static final AttributeKey<Long> ATTEMPTS = longKey("gateway.attempts");
  static final AttributeKey<Long> RETRIES = longKey("gateway.retries");
  static final AttributeKey<Long> FALLBACKS = longKey("gateway.fallbacks");
  static final AttributeKey<String> OUTCOME = stringKey("gateway.outcome");
  static final AttributeKey<Boolean> STREAM = booleanKey("gateway.stream");
  static final AttributeKey<Boolean> USAGE_ESTIMATED = booleanKey("gateway.usage.estimated");
  static final AttributeKey<Double> COST = doubleKey("gateway.cost_usd");
  /** What the response cache did: hit, miss, refresh, bypass, uncacheable (absent: not cached). */
  static final AttributeKey<String> CACHE = stringKey("gateway.cache");
  static final AttributeKey<Double> CACHE_SAVED = doubleKey("gateway.cache.saved_usd");
  static final AttributeKey<String> KEY_NAME = stringKey("gateway.key.name");
  static final AttributeKey<String> TEAM = stringKey("gateway.team");
  static final AttributeKey<String> WORKFLOW_TYPE = stringKey("gateway.workflow.type");
  static final AttributeKey<String> WORKFLOW_ID = stringKey("gateway.workflow.id");

  /** Methods named as themselves; any other is {@code _OTHER}, as the HTTP conventions say. */
  private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
      "TRACE", "PATCH");

  static String method(String method) {
    return method != null && METHODS.contains(method) ? method : "_OTHER";
  }

  /** The GenAI operation of an endpoint label ({@code chat_completions} → {@code chat}), or null. */
  static String operation(String endpoint) {
    if (endpoint == null) {
      return null;
    }
    return switch (endpoint) {
      case "chat_completions" -> "chat";
      case "completions" -> "text_completion";
      case "embeddings" -> "embeddings";
      default -> null;
    };
  }
}
