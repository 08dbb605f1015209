/**
 * The client-facing error catalogue: {@link dev.llmgw.core.error.GatewayError} (status, OpenAI type,
 * param, code and wording, each failure built by one factory) and the exception that carries one to
 * the place that answers it.
 *
 * <p>Depends on: the JDK and Jackson. Must not: depend on Netty or on any other gateway package (every
 * layer may use it); no error is built outside the catalogue (gateway-server's
 * {@code ErrorCatalogueTest}); messages never carry secrets. Immutable and thread-safe.
 */
package dev.llmgw.core.error;
