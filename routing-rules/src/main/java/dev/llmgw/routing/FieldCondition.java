package dev.llmgw.routing;

import java.util.Set;

/** The {@code header}, {@code metadata}, {@code user}, {@code apiKey} and {@code team} conditions. */
final class FieldCondition implements Condition {

  /** Where the value comes from. */
  enum Field { HEADER, METADATA, USER, API_KEY, TEAM }

  /** Header values never shown in traces. */
  private static final Set<String> SECRET_HEADERS =
      Set.of("authorization", "proxy-authorization", "cookie", "x-api-key", "api-key");
  private static final int MAX_SHOWN = 80;

  private final Field field;
  private final String key;
  private final ValueTest test;
  private final String label;

  /** @param key the lower-case header name or the metadata key; {@code null} for other fields */
  FieldCondition(Field field, String key, ValueTest test) {
    this.field = field;
    this.key = key;
    this.test = test;
    this.label = switch (field) {
      case HEADER -> "header " + key;
      case METADATA -> "metadata " + key;
      case USER -> "user";
      case API_KEY -> "apiKey";
      case TEAM -> "team";
    };
  }

  private String value(RequestFeatures f) {
    switch (field) {
      case HEADER:
        return f.header(key);
      case METADATA:
        return f.metadata(key);
      case USER:
        return f.user();
      case API_KEY:
        return f.apiKeyName();
      default:
        return f.team();
    }
  }

  @Override
  public boolean test(RequestFeatures f) {
    return test.test(value(f));
  }

  @Override
  public String explain(RequestFeatures f) {
    String v = value(f);
    String shown = v == null ? "absent" : shown(v);
    return label + " " + shown + (test.test(v) ? ", is " : ", expected ") + test.expected();
  }

  private String shown(String v) {
    if (field == Field.HEADER && SECRET_HEADERS.contains(key)) {
      return "(value hidden)";
    }
    return "'" + (v.length() > MAX_SHOWN ? v.substring(0, MAX_SHOWN) + "..." : v) + "'";
  }
}
