package dev.llmgw.core.config.raw;

import java.util.List;

/**
 * One entry of the {@code backends} map.
 *
 * @param baseUrl        OpenAI-compatible base URL (http backends)
 * @param apiKeyEnv      name of the environment variable holding the provider key (http backends)
 * @param enabled        {@code true}, {@code false}, {@code if-key-set} or {@code if-model-set}, as written
 * @param models         backend model names served
 * @param timeouts       per-backend timeouts
 * @param maxConnections most pooled connections per event loop, as written
 * @param resilience     breaker, bulkhead, rate limit, retry and health check (optional)
 * @param type           {@code http} (the default: a server reached at {@code baseUrl}) or
 *                       {@code inprocess} (a GGUF file run inside the gateway), as written
 * @param model          the GGUF file (inprocess backends), relative to the config file's directory
 * @param contextSize    tokens of context per sequence (inprocess)
 * @param threads        CPU threads for inference (inprocess)
 * @param maxSequences   sequences generated at once (inprocess)
 * @param queue          requests that may wait for a sequence (inprocess)
 * @param memoryLimit    most memory the model may need, a size (inprocess)
 * @param chatTemplate   a chat template llama.cpp knows by name, in place of the model's own (inprocess)
 */
public record BackendYaml(
    String baseUrl,
    String apiKeyEnv,
    String enabled,
    List<String> models,
    TimeoutsYaml timeouts,
    String maxConnections,
    ResilienceYaml resilience,
    String type,
    String model,
    String contextSize,
    String threads,
    String maxSequences,
    String queue,
    String memoryLimit,
    String chatTemplate) {}
