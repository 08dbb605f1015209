/**
 * The client side of the wire: the channel handlers of the client pipeline (receive timeout, body
 * aggregation, the request handler that answers or proxies each request in order), the endpoints the
 * gateway answers itself (models, health and readiness, workflows, admin), the access log, and the
 * response headers built from request state.
 *
 * <p>Depends on: gateway-core (every request-path package), routing-rules, Netty and Logback (the
 * access log). Must not: block an event loop — admin endpoints and anything that reads files or
 * walks the ledger run on the bounded admin thread and hop back to the loop to answer; never log a
 * header value or a credential. Threads: handlers are confined to their channel's event loop.
 */
package dev.llmgw.server.http;
