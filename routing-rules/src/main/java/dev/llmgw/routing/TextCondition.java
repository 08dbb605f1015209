package dev.llmgw.routing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text conditions {@code lastUserMessage}, {@code systemPrompt} (each system or developer
 * message) and {@code anyMessage} (each message): match when any keyword or the regex is found.
 */
final class TextCondition implements Condition {

  /** Which message texts are searched. */
  enum Feature {
    LAST_USER_MESSAGE("lastUserMessage"), SYSTEM_PROMPT("systemPrompt"), ANY_MESSAGE("anyMessage");

    final String key;

    Feature(String key) {
      this.key = key;
    }
  }

  private final Feature feature;
  private final KeywordSet keywords;
  private final Pattern regex;

  /** @param keywords may be {@code null}; @param regex may be {@code null}; not both */
  TextCondition(Feature feature, KeywordSet keywords, Pattern regex) {
    this.feature = feature;
    this.keywords = keywords;
    this.regex = regex;
  }

  @Override
  public boolean test(RequestFeatures f) {
    MessageScan s = f.scan();
    if (feature == Feature.LAST_USER_MESSAGE) {
      return s.lastUser >= 0 && matches(s.texts[s.lastUser]);
    }
    for (int i = 0; i < s.texts.length; i++) {
      if (searched(s, i) && matches(s.texts[i])) {
        return true;
      }
    }
    return false;
  }

  private boolean matches(String text) {
    return keywords != null && keywords.containedIn(text)
        || regex != null && BoundedFind.find(regex, text) != null;
  }

  @Override
  public String explain(RequestFeatures f) {
    MessageScan s = f.scan();
    boolean read = false;
    for (int i = 0; i < s.texts.length; i++) {
      if (!searched(s, i)) {
        continue;
      }
      read = true;
      String found = found(s.texts[i]);
      if (found != null) {
        String where = feature == Feature.LAST_USER_MESSAGE ? "" : " (message " + i + ")";
        return feature.key + where + " has " + found;
      }
    }
    if (!read) {
      return feature.key + ": no such message";
    }
    String none = keywords == null ? "" : keywords.size() == 1 ? "not its keyword"
        : "none of " + keywords.size() + " keywords";
    String re = regex == null ? "" : "no match for /" + regex.pattern() + "/";
    if (regex != null && abandonedIn(s)) {
      re += " (the search gave up past " + BoundedFind.STEPS_PER_CHAR + " character reads per character"
          + " of the text: this regex backtracks too much, and that reads as no match)";
    }
    return feature.key + " has " + none + (none.isEmpty() || re.isEmpty() ? "" : " and ") + re;
  }

  private boolean abandonedIn(MessageScan s) {
    for (int i = 0; i < s.texts.length; i++) {
      if (searched(s, i) && BoundedFind.abandons(regex, s.texts[i])) {
        return true;
      }
    }
    return false;
  }

  /** Whether this condition reads message {@code i}. */
  private boolean searched(MessageScan s, int i) {
    return feature == Feature.LAST_USER_MESSAGE ? i == s.lastUser
        : feature == Feature.ANY_MESSAGE || s.roles[i] == MessageScan.SYSTEM;
  }

  private String found(String text) {
    String k = keywords == null ? null : keywords.firstMatch(text);
    if (k != null) {
      return "keyword '" + k + "'";
    }
    if (regex != null) {
      Matcher m = BoundedFind.find(regex, text);
      if (m != null) {
        String g = m.group();
        return "a match for /" + regex.pattern() + "/: '"
            + (g.length() > 80 ? g.substring(0, 80) + "..." : g) + "'";
      }
    }
    return null;
  }
}
