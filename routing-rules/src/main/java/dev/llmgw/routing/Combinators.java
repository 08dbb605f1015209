package dev.llmgw.routing;

import java.util.List;

/** The {@code all}, {@code any} and {@code not} conditions. */
final class Combinators {

  private Combinators() {}

  static int signalsOf(Condition[] children) {
    int s = 0;
    for (Condition c : children) {
      s |= c.signals();
    }
    return s;
  }

  /** Matches when every child does; tried in order, stopping at the first that does not. */
  static final class All implements Condition {
    private final Condition[] children;

    All(List<Condition> children) {
      this.children = children.toArray(new Condition[0]);
    }

    @Override
    public int signals() {
      return signalsOf(children);
    }

    @Override
    public boolean test(RequestFeatures f) {
      for (Condition c : children) {
        if (!c.test(f)) {
          return false;
        }
      }
      return true;
    }

    @Override
    public String explain(RequestFeatures f) {
      StringBuilder sb = new StringBuilder("all of: ");
      for (int i = 0; i < children.length; i++) {
        if (!children[i].test(f)) {
          return "all[" + i + "]: " + children[i].explain(f);
        }
        sb.append(i == 0 ? "" : "; ").append(children[i].explain(f));
      }
      return sb.toString();
    }
  }

  /** Matches when at least one child does; tried in order, stopping at the first that does. */
  static final class Any implements Condition {
    private final Condition[] children;

    Any(List<Condition> children) {
      this.children = children.toArray(new Condition[0]);
    }

    @Override
    public int signals() {
      return signalsOf(children);
    }

    @Override
    public boolean test(RequestFeatures f) {
      for (Condition c : children) {
        if (c.test(f)) {
          return true;
        }
      }
      return false;
    }

    @Override
    public String explain(RequestFeatures f) {
      StringBuilder sb = new StringBuilder("none of any: ");
      for (int i = 0; i < children.length; i++) {
        if (children[i].test(f)) {
          return "any[" + i + "]: " + children[i].explain(f);
        }
        sb.append(i == 0 ? "" : "; ").append("any[").append(i).append("]: ")
            .append(children[i].explain(f));
      }
      return sb.toString();
    }
  }

  /** Matches when its child does not. */
  static final class Not implements Condition {
    private final Condition child;

    Not(Condition child) {
      this.child = child;
    }

    @Override
    public int signals() {
      return child.signals();
    }

    @Override
    public boolean test(RequestFeatures f) {
      return !child.test(f);
    }

    @Override
    public String explain(RequestFeatures f) {
      return "not (" + child.explain(f) + ")";
    }
  }
}
