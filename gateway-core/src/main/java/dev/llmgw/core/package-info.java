/**
 * The configuration snapshot a request runs against: {@link dev.llmgw.core.GatewaySnapshot} (the
 * compiled gateway config, routing policy, router and version) and the {@link
 * dev.llmgw.core.SnapshotLoader} that builds one from a config directory.
 *
 * <p>Depends on: {@code config}, {@code route} and routing-rules. Must not: depend on Netty, on the
 * exchange or the backend connections. Threads: snapshots are built off the event loops (start, validate,
 * explain, the reload thread) and are immutable; a request captures one and keeps it to the end.
 */
package dev.llmgw.core;
