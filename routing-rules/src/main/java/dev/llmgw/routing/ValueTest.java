package dev.llmgw.routing;

import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One test of a text value that may be absent: {@code equals}, {@code in}, {@code regex} (found
 * anywhere, unanchored) or {@code present}. Values compare exactly (case-sensitive); an absent value
 * matches only {@code present: false}.
 */
final class ValueTest {

  private enum Kind { EQUALS, IN, REGEX, PRESENT }

  private final Kind kind;
  private final String equals;
  private final Set<String> in;
  private final List<String> inOrder;
  private final Pattern regex;
  private final boolean present;

  private ValueTest(Kind kind, String equals, List<String> in, Pattern regex, boolean present) {
    this.kind = kind;
    this.equals = equals;
    this.inOrder = in;
    this.in = in == null ? null : Set.copyOf(in);
    this.regex = regex;
    this.present = present;
  }

  static ValueTest equalTo(String value) {
    return new ValueTest(Kind.EQUALS, value, null, null, false);
  }

  static ValueTest in(List<String> values) {
    return new ValueTest(Kind.IN, null, List.copyOf(values), null, false);
  }

  static ValueTest regex(Pattern regex) {
    return new ValueTest(Kind.REGEX, null, null, regex, false);
  }

  static ValueTest present(boolean present) {
    return new ValueTest(Kind.PRESENT, null, null, null, present);
  }

  boolean test(String value) {
    switch (kind) {
      case EQUALS:
        return equals.equals(value);
      case IN:
        return value != null && in.contains(value);
      case REGEX:
        return value != null && BoundedFind.find(regex, value) != null;
      default:
        return (value != null) == present;
    }
  }

  /** What is expected, e.g. {@code 'high'}, {@code one of [a, b]}, {@code /re/}, {@code present}. */
  String expected() {
    switch (kind) {
      case EQUALS:
        return "'" + equals + "'";
      case IN:
        return "one of " + inOrder;
      case REGEX:
        return "/" + regex.pattern() + "/";
      default:
        return present ? "present" : "absent";
    }
  }
}
