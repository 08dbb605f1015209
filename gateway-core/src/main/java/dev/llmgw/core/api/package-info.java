/**
 * The OpenAI API surface the gateway proxies: {@link dev.llmgw.core.api.Endpoint} (chat completions,
 * completions, embeddings) with its paths and what each allows.
 *
 * <p>Depends on: the JDK only. Must not: depend on anything else in the gateway — every layer may
 * depend on it. Immutable.
 */
package dev.llmgw.core.api;
