package dev.llmgw.routing;

/**
 * One step of an explained decision: a rule tried, or the forcing header, the default or pinning.
 *
 * @param rule    the rule name, or {@code forced-by-header}, {@code default} or {@code pinned}
 * @param matched whether it matched (for {@code forced-by-header}: whether the header forced a tier)
 * @param detail  why, e.g. {@code all[1]: promptTokens 812 not > 2000}
 */
public record TraceStep(String rule, boolean matched, String detail) {

  @Override
  public String toString() {
    return (matched ? "+ " : "- ") + rule + ": " + detail;
  }
}
