/**
 * The record of what one client request did (route, attempts, tokens, cost, outcome), filled in along
 * the request path and written as one access-log line when its response ends.
 *
 * <p>Depends on: {@code config} (prices). Must not: hold header values or any credential (nothing
 * secret can reach the log), or depend on Netty ({@code ArchitectureTest}). Threads: one record per
 * request, confined to its event loop.
 */
package dev.llmgw.core.log;
