/**
 * OpenTelemetry traces of the request path: the W3C trace context a client sent is continued (or a
 * trace started), one server span per request with child spans for classification, admission and
 * each backend attempt, and the attempt's own {@code traceparent} sent to the backend.
 *
 * <p>Depends on: the OpenTelemetry API, SDK and OTLP exporter, {@code config} (the {@code tracing}
 * section, backends), {@code route} (routes and plans), {@code resilience} (failure classes) and
 * {@code log} (the request record the request span is ended with). Must not: depend on Netty or the
 * exchange (the exchange calls in here, not the other way), put a secret or any prompt or completion
 * text in an attribute, or use a client-supplied string as an attribute value except ids (request
 * id, workflow id) and configured names (a model a client made up is left out).
 *
 * <p>Cost: with tracing off every method is a no-op on shared singletons ({@link RequestTrace#NONE},
 * {@link AttemptTrace#NONE}, {@link TraceStage#NONE}); with it on, a few spans per request and
 * nothing per response chunk. Threads: a request's spans are touched from its event loop (and the
 * classifier's completion, which hops back to it); span export runs on the SDK's batch thread.
 */
package dev.llmgw.core.trace;
