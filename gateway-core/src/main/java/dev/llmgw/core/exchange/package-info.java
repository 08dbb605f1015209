/**
 * The proxied request in flight: one exchange per client request that tries its route's candidates in
 * order (retries, fallbacks, deadlines), one attempt per backend try, the response relayed to the
 * client chunk by chunk, the client responses the gateway writes itself, and the events the request
 * path reports as it goes.
 *
 * <p>Depends on: Netty (channels, buffers, HTTP codec types) and the request path's packages
 * ({@code upstream}, {@code resilience}, {@code access}, {@code route}, {@code ingress}, {@code usage},
 * {@code log}, {@code http}, {@code config}, {@code error}). Must not: depend on gateway-server.
 * Threads: confined to the client's event loop (its backend channel lives there too), so it needs no
 * locks; never blocks; every buffer it takes is released exactly once.
 */
package dev.llmgw.core.exchange;
