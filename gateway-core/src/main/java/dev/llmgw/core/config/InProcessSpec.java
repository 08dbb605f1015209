package dev.llmgw.core.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The settings of a backend of {@code type: inprocess}: a GGUF model file run inside the gateway with
 * llama.cpp, rather than a server reached over HTTP.
 *
 * @param model        the GGUF file (absolute, resolved against the config file's directory)
 * @param contextSize  tokens of context of each sequence (prompt and completion together)
 * @param threads      CPU threads llama.cpp computes with
 * @param maxSequences sequences generated at once; each request is one sequence
 * @param queue        requests that may wait for a free sequence; beyond it a request is refused with
 *                     429, as an overloaded server would, and the gateway moves on to its next backend
 * @param memoryLimit  most bytes the model may need (weights, KV cache and working buffers, as
 *                     estimated from the file's header), 0 for no limit
 * @param chatTemplate a chat template llama.cpp knows by name ({@code chatml}, {@code llama3}, ...)
 *                     used in place of the model's own, or {@code null}: the model's own template,
 *                     and without one a plain transcript ({@code User: ... / Assistant:})
 * @param estimate     the bytes the model needs loaded with these settings (0 when unknown)
 * @param description  what the file's header says, for start-up lines, or {@code null}
 * @param problem      why the file cannot be used (missing, not GGUF, truncated, over the memory
 *                     limit), or {@code null}; a backend with a problem is disabled
 * @param where        {@code file:line} of the {@code model} setting, for messages
 */
public record InProcessSpec(
    Path model,
    int contextSize,
    int threads,
    int maxSequences,
    int queue,
    long memoryLimit,
    String chatTemplate,
    long estimate,
    String description,
    String problem,
    String where) {

  public static final int DEFAULT_MAX_SEQUENCES = 2;
  public static final int DEFAULT_QUEUE = 16;
  public static final int DEFAULT_CONTEXT_CAP = 4096;

  public InProcessSpec {
    Objects.requireNonNull(model, "model");
    if (contextSize < 1 || threads < 1 || maxSequences < 1 || queue < 0) {
      throw new IllegalArgumentException("contextSize, threads and maxSequences must be positive, queue >= 0");
    }
  }

  /** Settings for tests and tools: a model file, its context, threads, sequences and queue; no limit. */
  public static InProcessSpec of(Path model, int contextSize, int threads, int maxSequences, int queue) {
    return new InProcessSpec(model, contextSize, threads, maxSequences, queue, 0, null, 0, null, null, null);
  }

  /** The same settings with another chat template (tests). */
  public InProcessSpec withChatTemplate(String template) {
    return new InProcessSpec(model, contextSize, threads, maxSequences, queue, memoryLimit, template, estimate,
        description, problem, where);
  }

  /** Default threads: half the cores (at least one), leaving the rest to the event loops. */
  public static int defaultThreads() {
    return Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
  }

  /**
   * What decides the loaded model: a change of any of these needs the model loaded anew; the other
   * settings of the backend (timeouts, resilience) do not.
   */
  public String engineKey() {
    return model + "|" + contextSize + "|" + threads + "|" + maxSequences + "|" + queue + "|" + chatTemplate;
  }
}
