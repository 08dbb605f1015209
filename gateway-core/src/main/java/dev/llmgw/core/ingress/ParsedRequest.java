package dev.llmgw.core.ingress;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;
import java.io.IOException;

/**
 * A client request body that passed validation: what the gateway needs on every request, read in
 * one streaming pass ({@link RequestParser}), plus the whole body as a JSON tree, built only when
 * something asks for it ({@link #json()}: classification of {@code auto}, token estimates, the rare
 * re-serialised upstream body). Most proxied requests never build it.
 *
 * <p>Not thread-safe: confine it to the request's event loop (the lazy tree is built once).
 */
public final class ParsedRequest {
  private final Endpoint endpoint;
  private final String model;
  private final boolean stream;
  private final boolean hasStreamOptions;
  private final boolean clientAskedForUsage;
  private final long maxOutputTokens;
  private final long choices;
  private long outputBound = -1;
  private final String workflowId;
  private final String workflowType;
  private final ModelLocation modelLocation;
  private String cacheDirective;
  private byte[] bytes; // the body, until the tree is built
  private ObjectNode json;

  ParsedRequest(Endpoint endpoint, String model, boolean stream, boolean hasStreamOptions,
      boolean clientAskedForUsage, long maxOutputTokens, long choices, String workflowId, String workflowType,
      ModelLocation modelLocation, byte[] bytes) {
    this.endpoint = endpoint;
    this.model = model;
    this.stream = stream;
    this.hasStreamOptions = hasStreamOptions;
    this.clientAskedForUsage = clientAskedForUsage;
    this.maxOutputTokens = maxOutputTokens;
    this.choices = choices;
    this.workflowId = workflowId;
    this.workflowType = workflowType;
    this.modelLocation = modelLocation;
    this.bytes = bytes;
  }

  /** Which API it targets. */
  public Endpoint endpoint() {
    return endpoint;
  }

  /** The model name the client asked for. */
  public String model() {
    return model;
  }

  /** Whether the client asked for a server-sent-event stream. */
  public boolean stream() {
    return stream;
  }

  /** Whether the body has a top-level {@code stream_options} key (whatever its value, null included). */
  public boolean hasStreamOptions() {
    return hasStreamOptions;
  }

  /** Whether {@code stream_options.include_usage} is {@code true}. */
  public boolean clientAskedForUsage() {
    return clientAskedForUsage;
  }

  /**
   * The first of {@code max_completion_tokens} and {@code max_tokens} that is a positive number that
   * fits a long (a decimal is truncated), or -1 when neither is.
   */
  public long maxOutputTokens() {
    return maxOutputTokens;
  }

  /**
   * How many completions the backend generates (and bills) for this request: the larger of {@code n}
   * and, on the completions endpoint, {@code best_of}, when positive; else 1.
   */
  public long choices() {
    return choices;
  }

  /**
   * The output bound the gateway sends upstream because the request has none ({@code max_tokens}),
   * or -1: set by admission when a budget must bound what the request can cost.
   */
  public long outputBound() {
    return outputBound;
  }

  /** Asks the upstream body to carry {@code max_tokens: tokens} (only for a request without a bound). */
  public void boundOutput(long tokens) {
    if (maxOutputTokens > 0) {
      throw new IllegalStateException("the request has its own output bound");
    }
    this.outputBound = tokens;
  }

  /** {@code metadata.workflow_id} when it is a string, else null. */
  public String workflowId() {
    return workflowId;
  }

  /** {@code metadata.workflow_type} when it is a string, else null. */
  public String workflowType() {
    return workflowType;
  }

  ParsedRequest withCacheDirective(String directive) {
    this.cacheDirective = directive;
    return this;
  }

  /** {@code metadata.gateway_cache} when it is a string, else null (see {@code CacheDirective}). */
  public String cacheDirective() {
    return cacheDirective;
  }

  /** Where the top-level {@code model} value lies in the body, for splicing a new name in. */
  public ModelLocation modelLocation() {
    return modelLocation;
  }

  /**
   * The whole body as a tree, parsed on first use (the body was validated already, so this cannot
   * fail). Never mutate it: an attempt copies before rewriting.
   */
  public ObjectNode json() {
    if (json == null) {
      try {
        json = (ObjectNode) RequestParser.JSON.readTree(bytes);
      } catch (IOException | ClassCastException e) {
        // the streaming pass accepted these very bytes; the tree parser must too
        throw new GatewayException(GatewayError.malformedJson(String.valueOf(e.getMessage())));
      }
      bytes = null;
    }
    return json;
  }
}
