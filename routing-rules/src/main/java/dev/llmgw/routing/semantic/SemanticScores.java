package dev.llmgw.routing.semantic;

import java.util.List;

/**
 * How close one request is to each tier's examples.
 *
 * @param tiers    the tiers, in policy order
 * @param scores   per tier: the mean cosine similarity of its {@code k} nearest examples, taken over
 *                 the request's text segment where it is highest
 * @param segments per tier: which segment gave that score (0 is the last user message)
 * @param nearest  the closest examples over all segments, best first
 */
public record SemanticScores(List<String> tiers, double[] scores, int[] segments,
    List<Neighbour> nearest) {

  /** One close example. */
  public record Neighbour(double similarity, Example example, int segment) {}

  /** The score of the tier at {@code index} (in {@link #tiers} order). */
  public double score(int index) {
    return scores[index];
  }

  /** The best score of any tier but {@code index}. */
  public double bestOther(int index) {
    double best = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < scores.length; i++) {
      if (i != index && !Double.isNaN(scores[i])) {
        best = Math.max(best, scores[i]);
      }
    }
    return best;
  }
}
