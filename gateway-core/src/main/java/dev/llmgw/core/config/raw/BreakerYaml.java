package dev.llmgw.core.config.raw;

/**
 * A backend's {@code resilience.breaker}; counts, percentages ({@code 50%}) and durations as written.
 *
 * @param window        calls in the sliding window
 * @param minimumCalls  calls needed before the rates are judged
 * @param failureRate   failure rate that opens the breaker
 * @param slowCall      a call slower than this counts as slow
 * @param slowCallRate  slow-call rate that opens the breaker
 * @param openFor       how long the breaker stays open
 * @param halfOpenCalls probe calls in half-open state
 */
public record BreakerYaml(
    String window,
    String minimumCalls,
    String failureRate,
    String slowCall,
    String slowCallRate,
    String openFor,
    String halfOpenCalls) {}
