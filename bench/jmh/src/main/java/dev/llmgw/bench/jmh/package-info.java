/**
 * JMH benchmarks of the gateway's per-request hot spots (request parsing, the upstream request, error
 * bodies, the access-log line), built only with {@code -Pbench} (docs/benchmarks.md).
 *
 * <p>Depends on: JMH, gateway-core and Netty buffers. Never shipped; nothing depends on it.
 */
package dev.llmgw.bench.jmh;
