package dev.llmgw.core.ingress;

/**
 * Where, in a request body, the top-level object starts and the top-level {@code model} string value
 * lies (byte offsets from the body's reader index; {@code modelEnd} is exclusive and includes the
 * closing quote). Knowing them, the upstream body is a splice of the client's bytes around a new
 * model name — no re-serialisation of the whole tree (which the profile showed as the top cost of a
 * proxied request, docs/benchmarks.md). {@link RequestParser} finds them in its one pass; a body with
 * more than one top-level {@code model} field has none (it is re-serialised with one).
 */
public record ModelLocation(int objectStart, int modelStart, int modelEnd) {
  public static final ModelLocation UNKNOWN = new ModelLocation(-1, -1, -1);

  public boolean known() {
    return modelStart >= 0;
  }
}
