/**
 * Where a request goes: {@link dev.llmgw.core.route.ModelRouter} turns a request and its caller into a
 * {@link dev.llmgw.core.route.RoutePlan} (tier, ordered candidates, soft-budget downgrade) with the
 * snapshot's routing policy; the classifier stage computes the signals a rule needs (semantic scores
 * on its own bounded pool, the judge model on the JDK HTTP client).
 *
 * <p>Depends on: {@code config}, {@code error}, {@code ingress}, routing-rules (policy and semantic
 * index), Caffeine, Micrometer and Jackson. Must not: depend on Netty ({@code ArchitectureTest}) or on
 * the exchange. Threads: planning runs on the event loop and never blocks; classification never runs
 * on an event loop (the request waits asynchronously).
 */
package dev.llmgw.core.route;
