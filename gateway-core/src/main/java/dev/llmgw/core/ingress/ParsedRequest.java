package dev.llmgw.core.ingress;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.core.api.Endpoint;

/**
 * A client request body that passed validation.
 *
 * @param endpoint which API it targets
 * @param model    the model name the client asked for
 * @param stream   whether the client asked for a server-sent-event stream
 * @param json     the parsed body; not mutated after parsing (an attempt copies before rewriting)
 * @param where    byte offsets of the body's top-level object and {@code model} value, so that the
 *                 upstream body can be spliced instead of re-serialised; {@link ModelLocation#UNKNOWN}
 *                 when not located
 */
public record ParsedRequest(Endpoint endpoint, String model, boolean stream, ObjectNode json, ModelLocation where) {

  public ParsedRequest(Endpoint endpoint, String model, boolean stream, ObjectNode json) {
    this(endpoint, model, stream, json, ModelLocation.UNKNOWN);
  }

  /** The same request with the body offsets found by {@link ModelLocation#locate}. */
  public ParsedRequest located(ModelLocation where) {
    return new ParsedRequest(endpoint, model, stream, json, where);
  }
}
