package dev.llmgw.core.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${VAR}} and {@code ${VAR:-default}} in the raw text of {@code gateway.yaml} with
 * values from the environment, before the YAML is parsed. Like the shell, {@code :-} also applies
 * when the variable is set but empty. Comments are left alone, and a value may not contain a line
 * break, so line numbers stay those of the file. An unset variable without a default is a problem
 * (it is replaced by nothing so that the rest of the file can still be checked).
 */
final class EnvSubstitution {

  /** A problem on a line, before any YAML path is known. */
  record LineProblem(int line, String message) {}

  /**
   * @param text     the text with every reference replaced
   * @param used     the variables referred to, with the first line of each
   * @param lines    the variables referred to, with every line each is used on, in order
   * @param problems unset variables and malformed references
   */
  record Result(String text, Map<String, Integer> used, Map<String, List<Integer>> lines,
      List<LineProblem> problems) {}

  private static final Pattern BODY =
      Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?", Pattern.DOTALL);
  private static final String EXPECTED = "expected ${NAME} or ${NAME:-default}";

  private final Map<String, String> env;
  private final Map<String, Integer> used = new LinkedHashMap<>();
  private final Map<String, List<Integer>> lines = new LinkedHashMap<>();
  private final List<LineProblem> problems = new ArrayList<>();

  private EnvSubstitution(Map<String, String> env) {
    this.env = env;
  }

  static Result apply(String text, Map<String, String> env) {
    EnvSubstitution s = new EnvSubstitution(env);
    StringBuilder out = new StringBuilder(text.length());
    int lineNo = 1;
    for (int start = 0; start < text.length(); lineNo++) {
      int nl = text.indexOf('\n', start);
      int end = nl < 0 ? text.length() : nl + 1;
      int contentEnd = nl < 0 ? end : nl > start && text.charAt(nl - 1) == '\r' ? nl - 1 : nl;
      String line = text.substring(start, contentEnd);
      int comment = commentStart(line);
      out.append(s.substituteLine(line.substring(0, comment), lineNo))
          .append(line.substring(comment))
          .append(text, contentEnd, end);
      start = end;
    }
    Map<String, List<Integer>> lines = new LinkedHashMap<>();
    s.lines.forEach((name, at) -> lines.put(name, List.copyOf(at)));
    return new Result(out.toString(), Map.copyOf(s.used), Map.copyOf(lines),
        List.copyOf(s.problems));
  }

  private String substituteLine(String line, int lineNo) {
    StringBuilder out = new StringBuilder(line.length());
    int from = 0;
    for (int ref = line.indexOf("${"); ref >= 0; ref = line.indexOf("${", from)) {
      out.append(line, from, ref);
      int close = line.indexOf('}', ref);
      if (close < 0) {
        problems.add(new LineProblem(lineNo,
            "unterminated '" + line.substring(ref).strip() + "' (" + EXPECTED + ")"));
        return out.toString();
      }
      out.append(resolve(line.substring(ref, close + 1), lineNo));
      from = close + 1;
    }
    return out.append(line.substring(from)).toString();
  }

  private String resolve(String reference, int lineNo) {
    Matcher m = BODY.matcher(reference.substring(2, reference.length() - 1));
    if (!m.matches()) {
      problems.add(new LineProblem(lineNo,
          "'" + reference + "' is not a variable reference (" + EXPECTED + ")"));
      return "";
    }
    String name = m.group(1);
    used.putIfAbsent(name, lineNo);
    List<Integer> at = lines.computeIfAbsent(name, n -> new ArrayList<>());
    if (at.isEmpty() || at.get(at.size() - 1) != lineNo) {
      at.add(lineNo);
    }
    String value = env.get(name);
    if (m.group(2) != null && (value == null || value.isEmpty())) {
      value = m.group(2);
    }
    if (value == null) {
      problems.add(new LineProblem(lineNo, "environment variable " + name + " is not set"
          + " (expected it to be set, or a default: ${" + name + ":-value})"));
      return "";
    }
    if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
      problems.add(new LineProblem(lineNo, "environment variable " + name
          + " contains a line break (expected a single-line value)"));
      return "";
    }
    return value;
  }

  /**
   * Where a {@code #} comment starts on a line (the line's length when it has none): a {@code #} at
   * the start or after whitespace, outside quotes.
   */
  static int commentStart(String line) {
    char quote = 0;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      char prev = i == 0 ? ' ' : line.charAt(i - 1);
      if (quote == '\'') {
        if (c == '\'') {
          if (i + 1 < line.length() && line.charAt(i + 1) == '\'') {
            i++; // '' is an escaped quote
          } else {
            quote = 0;
          }
        }
      } else if (quote == '"') {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          quote = 0;
        }
      } else if (c == '#' && Character.isWhitespace(prev)) {
        return i;
      } else if ((c == '\'' || c == '"') && (Character.isWhitespace(prev) || "[{,".indexOf(prev) >= 0)) {
        quote = c;
      }
    }
    return line.length();
  }
}
