package dev.llmgw.core.usage;

/**
 * Token usage of one response, as the backend reported it or as the gateway estimated it.
 *
 * @param promptTokens       input tokens, cached ones included (OpenAI's {@code prompt_tokens})
 * @param completionTokens   generated tokens, reasoning included (OpenAI's {@code completion_tokens}); 0 for
 *                           embeddings
 * @param cachedPromptTokens the part of {@code promptTokens} served from the backend's prompt cache
 *                           ({@code prompt_tokens_details.cached_tokens}); 0 when not reported
 * @param estimated          true when counted by the gateway because the backend reported nothing
 */
public record TokenUsage(long promptTokens, long completionTokens, long cachedPromptTokens, boolean estimated) {

  public TokenUsage {
    if (promptTokens < 0 || completionTokens < 0 || cachedPromptTokens < 0) {
      throw new IllegalArgumentException("token counts must not be negative: prompt=" + promptTokens
          + " completion=" + completionTokens + " cached=" + cachedPromptTokens);
    }
  }

  /** Prompt plus completion tokens. */
  public long total() {
    return promptTokens + completionTokens;
  }
}
