/**
 * Token usage of responses: read from the relayed body as it passes (streamed or not, without
 * aggregating it), estimated with a real tokenizer when a backend reports none (marked estimated,
 * never recorded as zero), and the {@code stream_options} switch that asks backends for it.
 *
 * <p>Depends on: Netty buffers (it reads the relayed chunks), Jackson's non-blocking parser, jtokkit.
 * Must not: depend on other gateway packages (the exchange, upstream and access depend on it).
 * Threads: a tap belongs to one attempt on its event loop and never blocks; the estimator is
 * thread-safe.
 */
package dev.llmgw.core.usage;
