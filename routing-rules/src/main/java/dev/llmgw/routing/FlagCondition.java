package dev.llmgw.routing;

/** The boolean conditions {@code tools}, {@code jsonSchema} and {@code images}. */
final class FlagCondition implements Condition {

  /** The boolean feature tested. */
  enum Feature {
    TOOLS("tools"), JSON_SCHEMA("jsonSchema"), IMAGES("images");

    final String key;

    Feature(String key) {
      this.key = key;
    }
  }

  private final Feature feature;
  private final boolean expected;

  FlagCondition(Feature feature, boolean expected) {
    this.feature = feature;
    this.expected = expected;
  }

  private boolean value(RequestFeatures f) {
    switch (feature) {
      case TOOLS:
        return f.tools();
      case JSON_SCHEMA:
        return f.jsonSchema();
      default:
        return f.images();
    }
  }

  @Override
  public boolean test(RequestFeatures f) {
    return value(f) == expected;
  }

  @Override
  public String explain(RequestFeatures f) {
    boolean v = value(f);
    return feature.key + " " + v + (v == expected ? "" : ", expected " + expected);
  }
}
