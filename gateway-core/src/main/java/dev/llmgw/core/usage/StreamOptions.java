package dev.llmgw.core.usage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The {@code stream_options.include_usage} switch of OpenAI streaming requests. The gateway always asks
 * the backend for the final usage event, and strips it again ({@link UsageTap#forEventStream}) for a
 * client that did not ask for it.
 */
public final class StreamOptions {
  static final String STREAM_OPTIONS = "stream_options";
  static final String INCLUDE_USAGE = "include_usage";

  private StreamOptions() {}

  /**
   * A shallow copy of {@code request} with {@code stream_options.include_usage: true}, keeping every
   * other field, including any other {@code stream_options} field, in place. The input is never
   * mutated; the copy shares the input's other child nodes (treat them as read-only).
   *
   * <p>A request that does not stream ({@code stream} is not {@code true}) is copied without adding
   * {@code stream_options}: OpenAI rejects {@code stream_options} without {@code stream: true}, and a
   * non-streaming response carries {@code usage} anyway.
   */
  public static ObjectNode withUsageRequested(ObjectNode request) {
    ObjectNode copy = request.objectNode();
    copy.setAll(request);
    JsonNode stream = request.get("stream");
    if (stream == null || !stream.isBoolean() || !stream.booleanValue()) {
      return copy;
    }
    ObjectNode options = copy.objectNode();
    if (request.get(STREAM_OPTIONS) instanceof ObjectNode existing) {
      options.setAll(existing);
    }
    options.put(INCLUDE_USAGE, true);
    copy.set(STREAM_OPTIONS, options);
    return copy;
  }
}
