package dev.llmgw.routing;

import java.util.regex.Pattern;

/**
 * The {@code model} condition: a glob over the requested model ({@code *} any run of characters,
 * {@code ?} one character; case-sensitive, whole name). A request without a model has the model
 * {@code ""}.
 */
final class ModelCondition implements Condition {

  private final String glob;
  private final Pattern pattern;

  ModelCondition(String glob) {
    this.glob = glob;
    this.pattern = glob.indexOf('*') < 0 && glob.indexOf('?') < 0 ? null : compile(glob);
  }

  static Pattern compile(String glob) {
    StringBuilder re = new StringBuilder();
    StringBuilder literal = new StringBuilder();
    for (char c : glob.toCharArray()) {
      if (c == '*' || c == '?') {
        if (literal.length() > 0) {
          re.append(Pattern.quote(literal.toString()));
          literal.setLength(0);
        }
        re.append(c == '*' ? ".*" : ".");
      } else {
        literal.append(c);
      }
    }
    if (literal.length() > 0) {
      re.append(Pattern.quote(literal.toString()));
    }
    return Pattern.compile(re.toString(), Pattern.DOTALL);
  }

  boolean matches(String model) {
    String m = model == null ? "" : model;
    return pattern == null ? glob.equals(m) : pattern.matcher(m).matches();
  }

  @Override
  public boolean test(RequestFeatures f) {
    return matches(f.model());
  }

  @Override
  public String explain(RequestFeatures f) {
    String m = f.model();
    return "model " + (m == null ? "absent" : "'" + m + "'")
        + (matches(m) ? " matches " : " does not match ") + "'" + glob + "'";
  }
}
