package dev.llmgw.routing;

/**
 * A numeric range with an optional lower bound ({@code gt} or {@code gte}) and an optional upper bound
 * ({@code lt} or {@code lte}); at least one is set.
 */
record Range(double lower, boolean lowerInclusive, double upper, boolean upperInclusive) {

  static final double NONE_BELOW = Double.NEGATIVE_INFINITY;
  static final double NONE_ABOVE = Double.POSITIVE_INFINITY;

  boolean contains(double v) {
    return aboveLower(v) && belowUpper(v);
  }

  boolean aboveLower(double v) {
    return lowerInclusive ? v >= lower : v > lower;
  }

  boolean belowUpper(double v) {
    return upperInclusive ? v <= upper : v < upper;
  }

  boolean hasLower() {
    return lower != NONE_BELOW;
  }

  boolean hasUpper() {
    return upper != NONE_ABOVE;
  }

  /** No value satisfies both bounds. */
  boolean empty() {
    return lower > upper || lower == upper && !(lowerInclusive && upperInclusive);
  }

  /** E.g. {@code > 2000}, {@code >= 10 and < 20}. */
  @Override
  public String toString() {
    String lo = hasLower() ? (lowerInclusive ? ">= " : "> ") + format(lower) : "";
    String hi = hasUpper() ? (upperInclusive ? "<= " : "< ") + format(upper) : "";
    return lo.isEmpty() ? hi : hi.isEmpty() ? lo : lo + " and " + hi;
  }

  static String format(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }
}
