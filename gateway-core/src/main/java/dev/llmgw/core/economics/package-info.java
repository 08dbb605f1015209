/**
 * Unit economics: what requests and workflows cost, per workflow and per caller, what routing saved
 * against the baseline model, and the outcomes applications report — the workflow ledger, the
 * per-key and per-team usage, the report over them and its JSON.
 *
 * <p>Depends on: {@code config} (prices, workflow types), {@code log} (what a finished request did),
 * the request path's event interface, Micrometer, Caffeine and Jackson. Must not: depend on Netty
 * ({@code ArchitectureTest}), or use request data other than configured names as a metric label.
 * Threads: recording a finished request runs on its event loop and never blocks; reports and ledger
 * reads may wait for a remote store and run off the loop.
 */
package dev.llmgw.core.economics;
