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
 */
public record ParsedRequest(Endpoint endpoint, String model, boolean stream, ObjectNode json) {}
