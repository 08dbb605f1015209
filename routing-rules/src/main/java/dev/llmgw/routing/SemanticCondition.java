package dev.llmgw.routing;

import dev.llmgw.routing.semantic.SemanticScores;
import java.util.Locale;

/**
 * {@code semantic: {tier: high-stakes, minScore: 0.6, margin: 0.02}}: in one of the request's text
 * segments, the score for a tier (the mean similarity of its nearest examples of that tier, see
 * {@link dev.llmgw.routing.semantic.SemanticIndex}) is at least {@code minScore}, and, when {@code
 * margin} is set, exceeds every other tier's score in that segment by at least that much.
 *
 * <p>When the classifier has a second model and the scores are within its band of these thresholds
 * (and no other segment qualifies clearly), the condition asks for the second opinion ({@link
 * SignalNeeded}) and is evaluated again on the two models' mean — unless the second opinion is
 * limited to other tiers ({@code secondOpinion.tiers}).
 */
final class SemanticCondition implements Condition {

  private final String tier;
  private final int index;
  private final double minScore;
  private final double margin;
  private final boolean asks;

  /**
   * @param margin NaN when not set
   * @param asks   whether a close call asks for the second opinion (when there is one)
   */
  SemanticCondition(String tier, int index, double minScore, double margin, boolean asks) {
    this.tier = tier;
    this.index = index;
    this.minScore = minScore;
    this.margin = margin;
    this.asks = asks;
  }

  @Override
  public boolean test(RequestFeatures f) {
    SemanticScores scores = f.semantic();
    double band = asks ? scores.band() : 0;
    boolean near = false;
    for (int s = 0; s < scores.perSegment().length; s++) {
      boolean close = band > 0 && close(scores, s, band);
      if (!close && qualifies(scores, s)) {
        return true;
      }
      near |= close;
    }
    if (near) {
      // too close to call on the first model's scores: ask the second model, then decide again
      throw SignalNeeded.SEMANTIC;
    }
    return false;
  }

  /** Whether a segment's score (or lead, when a margin is set) is within {@code band} of it. */
  private boolean close(SemanticScores s, int segment, double band) {
    double score = s.perSegment()[segment][index];
    if (Double.isNaN(score)) {
      return false;
    }
    if (Double.isNaN(margin)) {
      return Math.abs(score - minScore) < band;
    }
    return score >= minScore - band && Math.abs(s.lead(segment, index) - margin) < band;
  }

  private boolean qualifies(SemanticScores s, int segment) {
    double score = s.perSegment()[segment][index];
    return !Double.isNaN(score) && score >= minScore
        && (Double.isNaN(margin) || s.lead(segment, index) >= margin);
  }

  @Override
  public String explain(RequestFeatures f) {
    SemanticScores s = f.semantic();
    int seg = s.bestSegment(index, minScore);
    if (seg < 0) {
      return "semantic " + tier + ": no examples of this tier";
    }
    double score = s.perSegment()[seg][index];
    StringBuilder sb = new StringBuilder("semantic ").append(tier).append(' ')
        .append(fmt(score)).append(score >= minScore ? " >= " : " < ").append(fmt(minScore));
    if (!Double.isNaN(margin)) {
      double lead = s.lead(seg, index);
      sb.append(", lead over the next tier ").append(fmt(lead))
          .append(lead >= margin ? " >= " : " < ").append(fmt(margin));
    }
    sb.append(" (from segment ").append(seg);
    if (s.refined()) {
      sb.append("; mean of the first and the second model's scores");
    }
    sb.append("; nearest:");
    for (SemanticScores.Neighbour n : s.nearest()) {
      String text = n.example().text();
      sb.append(' ').append(n.example().tier()).append(' ').append(fmt(n.similarity()))
          .append(' ').append(n.example().where()).append(" '")
          .append(text.length() > 60 ? text.substring(0, 60) + "…" : text).append("';");
    }
    sb.setLength(sb.length() - 1);
    return sb.append(')').toString();
  }

  @Override
  public int signals() {
    return SEMANTIC;
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.3f", v);
  }
}
