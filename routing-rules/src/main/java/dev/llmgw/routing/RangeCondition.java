package dev.llmgw.routing;

/**
 * The numeric conditions {@code promptTokens}, {@code messages}, {@code maxTokens} and
 * {@code temperature}. An absent value ({@code max_tokens} or {@code temperature} not sent) matches
 * no range.
 */
final class RangeCondition implements Condition {

  /** The numeric feature tested. */
  enum Feature {
    PROMPT_TOKENS("promptTokens"), MESSAGES("messages"), MAX_TOKENS("maxTokens"),
    TEMPERATURE("temperature");

    final String key;

    Feature(String key) {
      this.key = key;
    }
  }

  private final Feature feature;
  private final Range range;

  RangeCondition(Feature feature, Range range) {
    this.feature = feature;
    this.range = range;
  }

  @Override
  public boolean test(RequestFeatures f) {
    if (feature == Feature.PROMPT_TOKENS) {
      // decide from the cheap upper bound when it suffices; tokenize only when it does not
      long bound = f.promptTokensUpperBound();
      if (range.hasLower() && !range.aboveLower(bound)) {
        return false;
      }
      if (!range.hasLower() && range.belowUpper(bound)) {
        return true;
      }
    }
    double v = value(f);
    return !Double.isNaN(v) && range.contains(v);
  }

  private double value(RequestFeatures f) {
    switch (feature) {
      case PROMPT_TOKENS:
        return f.promptTokens();
      case MESSAGES:
        return f.messageCount();
      case MAX_TOKENS:
        long m = f.maxTokens();
        return m < 0 ? Double.NaN : m;
      default:
        return f.temperature();
    }
  }

  @Override
  public String explain(RequestFeatures f) {
    double v = value(f);
    if (Double.isNaN(v)) {
      return feature.key + " not set, expected " + range;
    }
    return feature.key + " " + Range.format(v) + (range.contains(v) ? " " : " not ") + range;
  }
}
