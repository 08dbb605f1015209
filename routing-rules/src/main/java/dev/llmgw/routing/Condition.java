package dev.llmgw.routing;

/**
 * A compiled condition: immutable and thread-safe. {@link #test} is the hot path and must not
 * allocate more than the feature it reads needs; {@link #explain} is for traces.
 */
interface Condition {

  boolean test(RequestFeatures f);

  /**
   * What this condition saw, phrased for an operator: why it matched ({@code lastUserMessage has
   * keyword 'lawyer'}) or why not ({@code promptTokens 812 not > 2000}). Agrees with {@link #test}.
   */
  String explain(RequestFeatures f);
}
