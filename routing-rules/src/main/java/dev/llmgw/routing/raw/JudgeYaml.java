package dev.llmgw.routing.raw;

/**
 * {@code classifier.judge}: a model asked to classify the requests a {@code judge} condition is
 * reached for.
 *
 * @param model     a model alias of gateway.yaml
 * @param timeout   the latency budget of one judgement (default 2s)
 * @param cacheSize verdicts kept, keyed by a hash of the classified text (default 10000)
 * @param prompt    the classification instructions (optional; the default describes the tiers)
 */
public record JudgeYaml(String model, String timeout, String cacheSize, String prompt) {}
