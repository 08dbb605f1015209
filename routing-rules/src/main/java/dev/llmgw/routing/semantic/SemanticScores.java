package dev.llmgw.routing.semantic;

import java.util.List;

/**
 * How close one request is to each tier's examples, per text segment.
 *
 * @param tiers      the tiers, in policy order
 * @param perSegment per segment (0 is the last user message), per tier: the mean cosine similarity
 *                   of the tier's {@code k} nearest examples; NaN for a tier without examples
 * @param nearest    the closest examples over all segments, best first
 * @param band       how close to its threshold a condition's score or lead must be to ask for the
 *                   second model's opinion ({@link SemanticIndex#refine}); 0 when there is none to
 *                   ask (no second model, or these scores already include it)
 * @param refined    whether these scores are the mean of the first and the second model's
 */
public record SemanticScores(List<String> tiers, double[][] perSegment, List<Neighbour> nearest,
    double band, boolean refined) {

  /** Scores of one model, with no second opinion to ask. */
  public SemanticScores(List<String> tiers, double[][] perSegment, List<Neighbour> nearest) {
    this(tiers, perSegment, nearest, 0, false);
  }

  /** These scores, final: no condition asks for the second opinion on them. */
  public SemanticScores withoutSecondOpinion() {
    return band == 0 ? this : new SemanticScores(tiers, perSegment, nearest, 0, refined);
  }

  /** One close example. */
  public record Neighbour(double similarity, Example example, int segment) {}

  /** A tier's best score over the segments (NaN when it has no examples). */
  public double score(int tier) {
    double best = Double.NaN;
    for (double[] s : perSegment) {
      if (!Double.isNaN(s[tier]) && (Double.isNaN(best) || s[tier] > best)) {
        best = s[tier];
      }
    }
    return best;
  }

  /** In one segment, the lead of {@code tier} over the best other tier. */
  public double lead(int segment, int tier) {
    double[] s = perSegment[segment];
    double other = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < s.length; i++) {
      if (i != tier && !Double.isNaN(s[i])) {
        other = Math.max(other, s[i]);
      }
    }
    return s[tier] - other;
  }

  /**
   * The segment that best supports {@code tier}: among the segments where it scores at least
   * {@code minScore}, the one where it leads the other tiers most; when there is none, the segment
   * where it scores highest. -1 when the tier has no examples.
   */
  public int bestSegment(int tier, double minScore) {
    int best = -1;
    boolean qualified = false;
    for (int s = 0; s < perSegment.length; s++) {
      double v = perSegment[s][tier];
      if (Double.isNaN(v)) {
        continue;
      }
      boolean q = v >= minScore;
      if (best < 0 || (q && !qualified)
          || (q == qualified && (q ? lead(s, tier) > lead(best, tier) : v > perSegment[best][tier]))) {
        best = s;
        qualified = q;
      }
    }
    return best;
  }
}
