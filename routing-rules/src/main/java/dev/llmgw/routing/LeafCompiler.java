package dev.llmgw.routing;

import static dev.llmgw.routing.Problems.child;
import static dev.llmgw.routing.Problems.element;
import static dev.llmgw.routing.Problems.quote;

import dev.llmgw.routing.raw.HeaderYaml;
import dev.llmgw.routing.raw.IdentityYaml;
import dev.llmgw.routing.raw.MetadataYaml;
import dev.llmgw.routing.raw.RangeYaml;
import dev.llmgw.routing.raw.TextYaml;
import dev.llmgw.routing.raw.UserYaml;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Compiles the leaf conditions: value tests, numeric ranges, text (keywords and regex) and flags.
 * Regexes and keyword sets are compiled here, once. Each method records every problem it finds and
 * returns {@code null} when there was any.
 */
final class LeafCompiler {

  static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

  private final Problems problems;

  LeafCompiler(Problems problems) {
    this.problems = problems;
  }

  Condition header(HeaderYaml h, String path) {
    String name = headerName(h.name(), child(path, "name"), problems);
    ValueTest t = valueTest(h.equals(), h.in(), h.regex(), h.present(), path, true);
    return name == null || t == null ? null
        : new FieldCondition(FieldCondition.Field.HEADER, name, t);
  }

  /** A lower-cased header name, or {@code null} after recording a problem. */
  static String headerName(String raw, String path, Problems problems) {
    if (raw == null || raw.isBlank()) {
      problems.add(path, "missing (expected a header name, e.g. x-stakes)");
      return null;
    }
    String name = raw.strip();
    if (!HEADER_NAME.matcher(name).matches()) {
      problems.add(path, quote(raw) + " is not a valid header name (expected letters, digits and "
          + "-, e.g. x-stakes)");
      return null;
    }
    return name.toLowerCase(Locale.ROOT);
  }

  Condition metadata(MetadataYaml m, String path) {
    String key = m.key();
    if (key == null || key.isBlank()) {
      problems.add(child(path, "key"), "missing (expected a metadata key, e.g. stakes)");
    }
    ValueTest t = valueTest(m.equals(), m.in(), m.regex(), m.present(), path, true);
    return key == null || key.isBlank() || t == null ? null
        : new FieldCondition(FieldCondition.Field.METADATA, key.strip(), t);
  }

  Condition user(UserYaml u, String path) {
    ValueTest t = valueTest(u.equals(), u.in(), u.regex(), null, path, false);
    return t == null ? null : new FieldCondition(FieldCondition.Field.USER, null, t);
  }

  Condition identity(FieldCondition.Field field, IdentityYaml id, String path) {
    ValueTest t = valueTest(id.equals(), id.in(), null, null, path, false);
    return t == null ? null : new FieldCondition(field, null, t);
  }

  private ValueTest valueTest(String equals, List<String> in, String regex, String present,
      String path, boolean presence) {
    List<String> set = new ArrayList<>();
    if (equals != null) {
      set.add("equals");
    }
    if (in != null) {
      set.add("in");
    }
    if (regex != null) {
      set.add("regex");
    }
    if (present != null) {
      set.add("present");
    }
    String kinds = presence ? "equals, in, regex, present" : "equals, in, regex";
    if (set.size() != 1) {
      problems.add(path, (set.isEmpty() ? "no test" : "more than one test: " + String.join(", ", set))
          + " (expected exactly one of: " + kinds + ")");
      return null;
    }
    switch (set.get(0)) {
      case "equals":
        return ValueTest.equalTo(equals);
      case "in":
        List<String> values = strings(in, child(path, "in"), "value");
        return values == null ? null : ValueTest.in(values);
      case "regex":
        Pattern p = regex(regex, child(path, "regex"));
        return p == null ? null : ValueTest.regex(p);
      default:
        Boolean b = bool(present, child(path, "present"));
        return b == null ? null : ValueTest.present(b);
    }
  }

  Condition range(RangeCondition.Feature feature, RangeYaml r, String path) {
    boolean integer = feature != RangeCondition.Feature.TEMPERATURE;
    if (r.gt() == null && r.gte() == null && r.lt() == null && r.lte() == null) {
      problems.add(path, "no bound (expected at least one of: gt, gte, lt, lte)");
      return null;
    }
    int before = problems.count();
    if (r.gt() != null && r.gte() != null) {
      problems.add(path, "both gt and gte (expected at most one lower bound)");
    }
    if (r.lt() != null && r.lte() != null) {
      problems.add(path, "both lt and lte (expected at most one upper bound)");
    }
    Double gt = number(r.gt(), child(path, "gt"), integer);
    Double gte = number(r.gte(), child(path, "gte"), integer);
    Double lt = number(r.lt(), child(path, "lt"), integer);
    Double lte = number(r.lte(), child(path, "lte"), integer);
    if (problems.count() > before) {
      return null;
    }
    Range range = new Range(gt != null ? gt : gte != null ? gte : Range.NONE_BELOW, gt == null,
        lt != null ? lt : lte != null ? lte : Range.NONE_ABOVE, lt == null);
    if (range.empty()) {
      problems.add(path, "'" + range + "' matches no value (expected a lower bound below the upper)");
      return null;
    }
    return new RangeCondition(feature, range);
  }

  private Double number(String raw, String path, boolean integer) {
    if (raw == null) {
      return null;
    }
    String what = integer ? "a non-negative integer" : "a number";
    try {
      BigDecimal d = new BigDecimal(raw.strip());
      if (integer && (d.signum() < 0 || d.stripTrailingZeros().scale() > 0)) {
        throw new NumberFormatException();
      }
      return d.doubleValue();
    } catch (NumberFormatException e) {
      problems.add(path, quote(raw) + " is not " + what + " (expected " + what
          + (integer ? ", e.g. 2000)" : ", e.g. 0.7)"));
      return null;
    }
  }

  Condition text(TextCondition.Feature feature, TextYaml t, String path) {
    if (t.keywords() == null && t.regex() == null) {
      problems.add(path, "no keywords or regex (expected keywords: [...], regex: '...', or both)");
      return null;
    }
    int before = problems.count();
    KeywordSet keywords = t.keywords() == null ? null : keywords(t.keywords(), child(path, "keywords"));
    Pattern regex = t.regex() == null ? null : regex(t.regex(), child(path, "regex"));
    return problems.count() > before ? null : new TextCondition(feature, keywords, regex);
  }

  private KeywordSet keywords(List<String> raw, String path) {
    List<String> words = strings(raw, path, "keyword");
    if (words == null) {
      return null;
    }
    Map<String, Integer> seen = new HashMap<>();
    boolean ok = true;
    for (int i = 0; i < words.size(); i++) {
      String w = words.get(i).strip();
      String at = element(path, i);
      if (!wildcardOk(w)) {
        problems.add(at, quote(w) + " has a misplaced '*' (expected a word or phrase, optionally "
            + "ending in * as in diagnos*, or one word starting with * as in *itis)");
        ok = false;
        continue;
      }
      Integer first = seen.putIfAbsent(KeywordSet.normalize(w), i);
      if (first != null) {
        problems.add(at, quote(w) + " is listed twice (also " + element(path, first)
            + "; keywords are case-insensitive)");
        ok = false;
      }
    }
    return ok ? new KeywordSet(words) : null;
  }

  /** {@code *} only as the last character, or first before one word (no other {@code *}). */
  static boolean wildcardOk(String w) {
    String inner = w.startsWith("*") ? w.substring(1) : w.endsWith("*")
        ? w.substring(0, w.length() - 1) : w;
    if (inner.isBlank() || inner.indexOf('*') >= 0) {
      return false;
    }
    if (w.startsWith("*")) {
      for (int i = 0; i < inner.length(); i++) {
        if (!KeywordSet.isWordChar(inner.charAt(i))) {
          return false;
        }
      }
    }
    return true;
  }

  /** A non-empty list without blank entries, or {@code null} after recording problems. */
  private List<String> strings(List<String> raw, String path, String what) {
    if (raw.isEmpty()) {
      problems.add(path, "empty list (expected at least one " + what + ")");
      return null;
    }
    boolean ok = true;
    for (int i = 0; i < raw.size(); i++) {
      if (raw.get(i) == null || raw.get(i).isBlank()) {
        problems.add(element(path, i), "empty (expected a " + what + ")");
        ok = false;
      }
    }
    return ok ? raw : null;
  }

  Pattern regex(String raw, String path) {
    if (raw.isEmpty()) {
      problems.add(path, "empty (expected a Java regular expression)");
      return null;
    }
    try {
      return Pattern.compile(raw);
    } catch (PatternSyntaxException e) {
      problems.add(path, quote(raw) + " is not a valid regex: " + e.getDescription()
          + (e.getIndex() >= 0 ? " near index " + e.getIndex() : "")
          + " (expected a Java regular expression)");
      return null;
    }
  }

  Condition flag(FlagCondition.Feature feature, String raw, String path) {
    Boolean b = bool(raw, path);
    return b == null ? null : new FlagCondition(feature, b);
  }

  Boolean bool(String raw, String path) {
    String v = raw.strip().toLowerCase(Locale.ROOT);
    if (v.equals("true") || v.equals("false")) {
      return Boolean.valueOf(v);
    }
    problems.add(path, quote(raw) + " is not a boolean (expected true or false)");
    return null;
  }
}
