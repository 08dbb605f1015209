/**
 * The semantic classifier's machinery: embedding models (ONNX Runtime through LangChain4j, loaded once
 * per process and cached), the example files, and the per-policy index that scores a request against
 * each tier's examples.
 *
 * <p>Depends on: the JDK, ONNX Runtime, LangChain4j embeddings, Caffeine and Jackson; of the rules
 * package only {@link dev.llmgw.routing.RuleProblem}, to report broken example lines (a known
 * back-edge, kept from growing by {@code ArchitectureTest}). This is the only package that may use the
 * embedding runtime. Must not: depend on Netty or on the rules themselves. Threads: embedding costs
 * milliseconds of CPU and must never run on an event loop (gateway-core's classifier pool and the
 * loaders call it); the index is immutable and thread-safe.
 */
package dev.llmgw.routing.semantic;
