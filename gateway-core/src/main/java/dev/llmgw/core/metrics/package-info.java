/**
 * The gateway's metrics in one vocabulary (OpenTelemetry GenAI names where one exists, plus
 * {@code gateway.*}), fed by the request path's events.
 *
 * <p>Depends on: Micrometer, Resilience4j's Micrometer binding, {@code config}, {@code route},
 * {@code resilience}, {@code log} and the request path's event interface. Must not: use raw request
 * data as a label value (every label comes from a config-bounded set), or depend on Netty
 * ({@code ArchitectureTest}). Threads: callbacks run on event loops and never block (meters are
 * resolved once per label combination).
 */
package dev.llmgw.core.metrics;
