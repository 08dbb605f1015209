package dev.llmgw.core.error;

/** Carries a {@link GatewayError} out of parsing or routing code to the one place that answers it. */
public class GatewayException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final transient GatewayError error;

  public GatewayException(GatewayError error) {
    super(error.message(), null, false, false);
    this.error = error;
  }

  public GatewayError error() {
    return error;
  }
}
