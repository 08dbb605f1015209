package dev.llmgw.routing.raw;

import java.util.List;

/**
 * {@code classifier.semantic}: the embedding model and the example files.
 *
 * @param model     a built-in model name ({@code all-minilm-l6-v2-q}); or leave it out and give
 *                  {@code onnx} and {@code tokenizer}
 * @param onnx      an ONNX sentence-embedding model file of your own (relative to routing.yaml)
 * @param tokenizer its HuggingFace {@code tokenizer.json}
 * @param pooling   {@code mean} (default) or {@code cls}, for an own model
 * @param examples  example files (JSON Lines, relative to routing.yaml), at least one
 * @param k         neighbours averaged per tier (default 3)
 * @param timeout   how long a request may wait for its score, queue included (default 250ms; a
 *                  second opinion included)
 * @param secondOpinion a second model for requests close to a threshold (optional)
 */
public record SemanticYaml(String model, String onnx, String tokenizer, String pooling,
    List<String> examples, String k, String timeout, SecondOpinionYaml secondOpinion) {}
