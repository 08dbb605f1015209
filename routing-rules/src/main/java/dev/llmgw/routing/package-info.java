/**
 * The routing model: {@code routing.yaml} checked and compiled ({@link dev.llmgw.routing.RuleCompiler},
 * the condition and classifier compilers, every problem reported with its path) into an immutable
 * {@link dev.llmgw.routing.RoutingPolicy}, the compiled conditions, and the {@link
 * dev.llmgw.routing.RequestFeatures} the rules read from a request body, lazily.
 *
 * <p>Depends on: the JDK, Jackson databind (request bodies as trees), jtokkit (prompt-token
 * estimates), {@code routing.raw} (what the file binds to) and {@code routing.semantic} (scores).
 * Must not: depend on Netty (the enforcer bans it from the module; {@code ArchitectureTest} checks the
 * classes) or on gateway-core (the module graph points the other way), or use ONNX or LangChain4j
 * directly. Threads: a policy is shared by every event loop; {@code decide} never blocks and does no
 * I/O — a rule that needs a costly signal (semantic score, judge) throws {@link
 * dev.llmgw.routing.SignalNeeded} so the caller computes it off the loop.
 */
package dev.llmgw.routing;
