/**
 * Load-test tools, built only with {@code -Pbench}: a fast mock of an OpenAI-compatible backend and a
 * probe that times streamed responses as an SDK client would see them.
 *
 * <p>Depends on: Netty and the JDK only — standalone, so it measures the gateway and nothing of its
 * code. Never shipped; nothing depends on it.
 */
package dev.llmgw.bench.mock;
