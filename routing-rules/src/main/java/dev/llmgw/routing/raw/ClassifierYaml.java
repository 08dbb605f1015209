package dev.llmgw.routing.raw;

/**
 * {@code classifier}: the signals beyond the request's own fields, and what happens when one is
 * late.
 *
 * @param semantic the embedding classifier (optional)
 * @param judge    the judge model (optional)
 * @param safeTier the tier a request gets when a signal it needs times out, fails or is refused
 *                 (queue full); absent: the highest tier the caller may use
 * @param threads  classifier threads (default 1)
 * @param queue    requests that may wait for a classifier thread (default 256)
 */
public record ClassifierYaml(SemanticYaml semantic, JudgeYaml judge, String safeTier,
    String threads, String queue) {}
