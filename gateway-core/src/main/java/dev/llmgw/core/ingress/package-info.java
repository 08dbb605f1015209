/**
 * The client's request body read and checked: one streaming pass over the JSON ({@code BodyScan}),
 * the OpenAI parameter checks with errors naming the parameter ({@link
 * dev.llmgw.core.ingress.RequestParser}), and the {@link dev.llmgw.core.ingress.ParsedRequest} the
 * rest of the request path reads, with where the {@code model} value lies for an in-place rewrite.
 *
 * <p>Depends on: the JDK, Jackson, {@code api} and {@code error}. Must not: depend on Netty (callers
 * hand it an {@code InputStream}; {@code ArchitectureTest}) or on routing, access or the exchange.
 * Threads: the parser is stateless and thread-safe; a {@code ParsedRequest} is confined to its
 * request's event loop.
 */
package dev.llmgw.core.ingress;
