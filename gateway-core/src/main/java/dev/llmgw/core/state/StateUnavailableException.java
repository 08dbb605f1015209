package dev.llmgw.core.state;

import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;

/** The shared state store cannot answer and its policy is {@code failClosed}: 503, retry shortly. */
public final class StateUnavailableException extends GatewayException {
  private static final long serialVersionUID = 1L;

  public StateUnavailableException(String detail) {
    super(GatewayError.stateUnavailable(detail));
  }
}
