/**
 * Small HTTP helpers over Netty shared by the request path: header factories without per-character
 * validation for the messages the gateway builds from trusted values.
 *
 * <p>Depends on: Netty only. Must not: depend on other gateway packages; client input is never passed
 * through the unvalidated factories. Stateless.
 */
package dev.llmgw.core.http;
