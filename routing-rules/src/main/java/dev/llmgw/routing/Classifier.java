package dev.llmgw.routing;

import dev.llmgw.routing.semantic.SemanticIndex;

/**
 * The compiled {@code classifier} section of a policy: the signals its rules may read beyond the
 * request's own fields.
 *
 * @param semantic    the example index, or {@code null} when no semantic classifier is configured
 * @param judgeModel  the model alias that judges, or {@code null} when no judge is configured
 * @param judgePrompt the judge's instructions (the configured prompt, or one built from the tiers'
 *                    descriptions)
 * @param safeTier    the tier of a request whose signal timed out or failed, or {@code null} for
 *                    the highest tier its caller may use
 */
public record Classifier(SemanticIndex semantic, String judgeModel, String judgePrompt,
    String safeTier) {

  static final Classifier NONE = new Classifier(null, null, null, null);
}
