/**
 * The record of one client request: {@code RequestLogBuilder} (the write side: each stage of the
 * request path sets the fields it owns; whoever answers the request ends it, exactly once, with an
 * {@code Outcome}), {@code RequestLog} (the read side: what listeners see once it has ended, priced),
 * and {@code RequestLogListener} (what reacts to the end: access log, metrics, ledger, settlements).
 *
 * <p>Depends on: {@code config} (prices). Must not: hold header values or any credential (nothing
 * secret can reach the log), or depend on Netty ({@code ArchitectureTest}). Threads: one record per
 * request, confined to its event loop; listeners run there and must not block.
 */
package dev.llmgw.core.log;
