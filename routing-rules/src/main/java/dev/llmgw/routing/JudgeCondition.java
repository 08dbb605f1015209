package dev.llmgw.routing;

/**
 * {@code judge: high-stakes}: the judge model, asked to classify the request, named this tier. The
 * judge is asked at most once per request, and only when a rule reaches this condition: put it
 * behind cheaper conditions (for example a band of semantic scores) so only uncertain requests pay
 * for it.
 */
final class JudgeCondition implements Condition {

  private final String tier;

  JudgeCondition(String tier) {
    this.tier = tier;
  }

  @Override
  public boolean test(RequestFeatures f) {
    return tier.equals(f.judgeVerdict());
  }

  @Override
  public String explain(RequestFeatures f) {
    String verdict = f.judgeVerdict();
    return "judge named '" + verdict + "'" + (tier.equals(verdict) ? "" : ", not '" + tier + "'");
  }

  @Override
  public int signals() {
    return JUDGE;
  }
}
