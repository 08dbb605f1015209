package dev.llmgw.core.upstream.inprocess;

import java.util.List;

/**
 * A loaded model, as the in-process backend uses it. Every method may block for the length of a
 * native call: call them on a worker thread, never on an event loop. {@link LlamaEngine} is the real
 * one; tests use a scripted one.
 */
public interface InferenceEngine extends AutoCloseable {

  /** One chat message: role ({@code system}, {@code user}, {@code assistant}, ...) and text. */
  record Message(String role, String content) {}

  /**
   * What to generate.
   *
   * @param prompt           the whole prompt text
   * @param maxTokens        tokens to generate at most
   * @param temperature      sampling temperature, or null for the engine's default
   * @param topP             nucleus sampling, or null
   * @param topK             top-k sampling (llama.cpp extension), or null
   * @param minP             min-p sampling (llama.cpp extension), or null
   * @param seed             sampling seed, or null
   * @param presencePenalty  or null
   * @param frequencyPenalty or null
   * @param repeatPenalty    (llama.cpp extension) or null
   * @param ignoreEos        keep generating past the end-of-sequence token (llama.cpp extension)
   * @param stop             strings that end the generation (not included in the text)
   */
  record Params(String prompt, int maxTokens, Float temperature, Float topP, Integer topK, Float minP,
      Integer seed, Float presencePenalty, Float frequencyPenalty, Float repeatPenalty, boolean ignoreEos,
      List<String> stop) {

    public Params {
      stop = List.copyOf(stop);
    }

    /** Greedy-free defaults for a prompt (tests). */
    public static Params of(String prompt, int maxTokens) {
      return new Params(prompt, maxTokens, null, null, null, null, null, null, null, null, false, List.of());
    }
  }

  /**
   * A piece of generated text and how many tokens it stands for (usually one; more when the model
   * spelled a character in several byte tokens, which llama.cpp hands over together).
   */
  record Piece(String text, int tokens) {}

  /** One generation in progress. Not thread-safe: the worker that started it pulls and cancels it. */
  interface Generation {
    /** The next piece, or {@code null} when the generation ended. Blocks until llama.cpp has one. */
    Piece next();

    /** Stops the generation and frees its sequence; {@link #next()} must not be called after. */
    void cancel();
  }

  /** What was loaded, for the start-up line. */
  default String description() {
    return "a model";
  }

  /** Tokens of context of one sequence (prompt and completion together). */
  int contextSize();

  /** How many tokens {@code prompt} is to the model, as llama.cpp counts it (start token included). */
  int promptTokens(String prompt);

  /**
   * The prompt for a chat: the model's chat template (or the configured one), and for a model
   * without one a plain transcript; see {@link #usesTemplate()}.
   */
  String chatPrompt(List<Message> messages);

  /** Whether {@link #chatPrompt} applies a chat template (false: the plain transcript). */
  boolean usesTemplate();

  /** Starts generating; the first piece is pulled with {@link Generation#next()}. */
  Generation generate(Params params);

  @Override
  void close();
}
