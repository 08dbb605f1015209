/**
 * How the gateway protects backends and itself: per-backend guards (circuit breaker, bulkhead,
 * provider rate limit; Resilience4j through its low-level API so streams count until they end), the
 * one failure table that classifies every failed attempt, active health checks, why a candidate
 * was skipped, and the hint that tells an operator how to point the gateway at a model while no local
 * model is up ({@code LocalModelHint}).
 *
 * <p>Depends on: Resilience4j, {@code config}, {@code error}, the JDK HTTP client (health checks) and
 * Netty's exception types (to classify a failure; nothing else of Netty), SLF4J. Must not: depend on the
 * exchange or the server. Threads: guards are thread-safe and shared by every event loop, and answer
 * "no" at once instead of waiting; health checks run on their own daemon thread.
 */
package dev.llmgw.core.resilience;
