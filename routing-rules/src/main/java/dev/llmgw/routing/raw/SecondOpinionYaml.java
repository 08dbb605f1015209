package dev.llmgw.routing.raw;

/**
 * {@code classifier.semantic.secondOpinion}: a second embedding model, asked only about requests
 * whose first scores fall close to a semantic condition's threshold.
 *
 * @param model     a built-in model name ({@code bge-small-en-v15-q}); or leave it out and give
 *                  {@code onnx} and {@code tokenizer}
 * @param onnx      an ONNX sentence-embedding model file of your own (relative to routing.yaml)
 * @param tokenizer its HuggingFace {@code tokenizer.json}
 * @param pooling   {@code mean} (default) or {@code cls}, for an own model
 * @param band      how close to a threshold (in score, or in lead when the condition has a margin)
 *                  the first model's scores must be to ask the second model (default 0.03)
 * @param tiers     the tiers whose semantic conditions may ask (default: every tier); e.g. only
 *                  {@code [high-stakes]}, where a wrong call costs most, to spend the second model
 *                  on those decisions alone
 */
public record SecondOpinionYaml(String model, String onnx, String tokenizer, String pooling,
    String band, java.util.List<String> tiers) {}
