package dev.llmgw.routing.semantic;

/**
 * Turns text into a sentence embedding. Implementations are thread-safe; {@link #embed} may take
 * milliseconds of CPU and must never run on an event loop.
 */
public interface Embedder {

  /** What model this is (a built-in name or the model file), for caches and {@code explain}. */
  String id();

  /** The embedding of {@code text}, scaled to unit length (so a dot product is the cosine). */
  float[] embed(String text);
}
