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

  /** The signal a semantic condition reads ({@link #signals} bit). */
  int SEMANTIC = 1;
  /** The signal a judge condition reads ({@link #signals} bit). */
  int JUDGE = 2;

  /** Which costly signals this condition (or one nested in it) may read: {@link #SEMANTIC}, {@link #JUDGE}. */
  default int signals() {
    return 0;
  }
}
