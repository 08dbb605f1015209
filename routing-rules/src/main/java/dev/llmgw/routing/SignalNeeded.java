package dev.llmgw.routing;

/**
 * Thrown by {@link RoutingPolicy#decide} when a rule reaches a signal the request does not carry
 * yet: a {@code semantic} score or a {@code judge} verdict. Signals cost milliseconds to seconds, so
 * the caller computes them off the event loop ({@link RoutingPolicy#computeSemantic} or its judge),
 * stores them on the {@link RequestFeatures} and decides again; the rules before are cheap and
 * evaluated again. Two shared instances, no stack trace: this is control flow, not an error.
 */
public final class SignalNeeded extends RuntimeException {

  /** The kinds of signal. */
  public enum Kind { SEMANTIC, JUDGE }

  static final SignalNeeded SEMANTIC = new SignalNeeded(Kind.SEMANTIC);
  static final SignalNeeded JUDGE = new SignalNeeded(Kind.JUDGE);

  private final Kind kind;

  private SignalNeeded(Kind kind) {
    super(kind.name(), null, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
