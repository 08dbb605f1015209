package dev.llmgw.core.config;

/**
 * What a model's tokens cost, in US dollars per million tokens. Local models are priced explicitly
 * too (zero, or a compute rate), so that "free" is a decision, not a gap.
 *
 * @param input       uncached prompt tokens
 * @param cachedInput prompt tokens served from the provider's cache
 * @param output      completion tokens
 */
public record Price(double input, double cachedInput, double output) {
  public static final Price FREE = new Price(0, 0, 0);

  /** The cost of {@code prompt} tokens (of which {@code cached} cached) and {@code completion} tokens. */
  public double cost(long prompt, long cached, long completion) {
    long uncached = Math.max(0, prompt - cached);
    return (uncached * input + Math.min(cached, prompt) * cachedInput + completion * output) / 1_000_000.0;
  }
}
