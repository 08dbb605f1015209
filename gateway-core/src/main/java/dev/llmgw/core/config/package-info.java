/**
 * {@code gateway.yaml} (and the keys file it names) loaded in two phases — environment substitution
 * and binding to {@code config.raw} with every problem located by line, then validation and
 * compilation — into the immutable records the gateway runs on ({@link
 * dev.llmgw.core.config.GatewayConfig}, backends, aliases, access, resilience, economics, state
 * settings); also {@link dev.llmgw.core.config.RoutingLoader}, which loads {@code routing.yaml}
 * through routing-rules.
 *
 * <p>Depends on: the JDK, Jackson (YAML), {@code config.raw}, routing-rules, and {@code route} for the
 * classifier settings (a known cycle, named in {@code ArchitectureTest}). Must not: depend on Netty or
 * on the request path ({@code exchange}, {@code upstream}, {@code access}, {@code state}, ...), both
 * checked by {@code ArchitectureTest}. Threads: loading reads files and the environment and runs off
 * the event loops (start, validate, the reload thread); what it builds is immutable and shared.
 */
package dev.llmgw.core.config;
