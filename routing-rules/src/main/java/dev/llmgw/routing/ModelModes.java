package dev.llmgw.routing;

import static dev.llmgw.routing.Problems.element;
import static dev.llmgw.routing.Problems.oneOf;
import static dev.llmgw.routing.Problems.quote;

import dev.llmgw.routing.raw.ModelsYaml;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Settles the {@code models} section into the set of pinned aliases. {@code auto} is always routed;
 * an alias listed under {@code pinned} or {@code route} gets that mode; any other configured alias
 * gets {@code defaultMode} ({@code pinned} when absent, so that a client naming a model gets that
 * model unless the operator says otherwise). Names that are not configured aliases are not pinned.
 */
final class ModelModes {

  static final String PINNED = "pinned";
  static final String ROUTE = "route";

  private final Problems problems;
  private final TreeSet<String> known;

  ModelModes(Problems problems, TreeSet<String> known) {
    this.problems = problems;
    this.known = known;
  }

  Set<String> pinnedAliases(ModelsYaml m) {
    if (m == null) {
      return Set.copyOf(known);
    }
    boolean pinByDefault = true;
    if (m.defaultMode() != null) {
      String mode = m.defaultMode().strip().toLowerCase(Locale.ROOT);
      if (!mode.equals(PINNED) && !mode.equals(ROUTE)) {
        problems.add("models.defaultMode", quote(m.defaultMode())
            + " is not a mode (expected pinned or route)");
      }
      pinByDefault = !mode.equals(ROUTE);
    }
    Map<String, String> listed = new HashMap<>();
    Set<String> pinned = aliases(m.pinned(), "models.pinned", listed);
    Set<String> routed = aliases(m.route(), "models.route", listed);
    Set<String> out = new HashSet<>(pinned);
    if (pinByDefault) {
      for (String alias : known) {
        if (!routed.contains(alias)) {
          out.add(alias);
        }
      }
    }
    out.remove("auto");
    return Set.copyOf(out);
  }

  private Set<String> aliases(List<String> raw, String path, Map<String, String> listed) {
    Set<String> out = new HashSet<>();
    if (raw == null) {
      return out;
    }
    for (int i = 0; i < raw.size(); i++) {
      String a = raw.get(i) == null ? null : raw.get(i).strip();
      String at = element(path, i);
      if ("auto".equals(a)) {
        problems.add(at, "'auto' is always routed by the rules (expected a configured model: "
            + oneOf(known) + ")");
      } else if (a == null || !known.contains(a)) {
        problems.add(at, quote(raw.get(i)) + " is not a configured model (expected one of: "
            + oneOf(known) + ")");
      } else if (listed.putIfAbsent(a, at) != null) {
        problems.add(at, quote(a) + " is already listed at " + listed.get(a)
            + " (expected each model in at most one of pinned, route)");
      } else {
        out.add(a);
      }
    }
    return out;
  }
}
