/**
 * The gateway process: the command line ({@code run}, {@code validate}, {@code explain},
 * {@code eval}), the server (event loops, listener, graceful stop), the client pipeline's order
 * ({@link dev.llmgw.server.GatewayChannelInitializer}, the one place that knows it) and hot reload.
 *
 * <p>Depends on: gateway-core, routing-rules, Netty, Micrometer (Prometheus registry) and its own
 * {@code http} package. Nothing depends on it. Threads: config loading and reload run on their own thread and publish a
 * new snapshot atomically; the event loops only read it.
 */
package dev.llmgw.server;
