package dev.llmgw.routing;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Collects every {@link RuleProblem} of one compilation, and builds the paths they are reported at. */
final class Problems {

  private final List<RuleProblem> list = new ArrayList<>();

  void add(String path, String message) {
    list.add(new RuleProblem(path, message));
  }

  void add(RuleProblem problem) {
    list.add(problem);
  }

  boolean isEmpty() {
    return list.isEmpty();
  }

  int count() {
    return list.size();
  }

  List<RuleProblem> list() {
    return List.copyOf(list);
  }

  static String child(String parent, String key) {
    return parent.isEmpty() ? key : parent + "." + key;
  }

  static String element(String parent, int index) {
    return parent + "[" + index + "]";
  }

  /** {@code 'value'}, or {@code nothing} for a missing value. */
  static String quote(String value) {
    return value == null ? "nothing" : "'" + value + "'";
  }

  /** {@code a, b, c} for "expected one of" lists. */
  static String oneOf(Collection<String> values) {
    return values.isEmpty() ? "(none configured)" : String.join(", ", values);
  }
}
