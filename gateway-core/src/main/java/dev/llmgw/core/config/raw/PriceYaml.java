package dev.llmgw.core.config.raw;

/**
 * A model's price as written: US dollars per million tokens.
 *
 * @param input       uncached prompt tokens
 * @param cachedInput cached prompt tokens (defaults to {@code input})
 * @param output      completion tokens
 */
public record PriceYaml(String input, String cachedInput, String output) {}
