/**
 * In-process backends: a GGUF model run inside the gateway with llama.cpp (the {@code de.kherud:llama}
 * JNI binding), served as an OpenAI-compatible backend over Netty's in-VM transport so that the
 * request path — routing, guards, fallback boundary, usage metering, metrics, access log — is the
 * one HTTP backends take.
 *
 * <pre>
 *  BackendAttempt ─ LocalChannel (client's event loop) ══ in-VM ══ LocalChannel ─ InferenceHandler
 *        ▲  HttpObjects, no codec                                        │ parse, 400/429 at once
 *        └──────── response head, SSE chunks / JSON ◀── Outbox ◀── worker thread (bounded pool)
 *                                                                          │ LlamaEngine: prompt, tokens
 * </pre>
 *
 * <p>{@link dev.llmgw.core.upstream.inprocess.InProcessBackends} loads one
 * {@link dev.llmgw.core.upstream.inprocess.InferenceServer} per in-process backend and gives
 * {@code BackendPools} its {@code LocalAddress}. Each server has one worker thread per sequence
 * ({@code maxSequences}) and a bounded queue ({@code queue}); a request beyond both is answered 429 at
 * once, as an overloaded server would. Inference never runs on an event loop: a worker pulls tokens
 * from llama.cpp and hands them to the connection's loop; it stops pulling while the gateway side has
 * not taken what was sent (credits, {@link dev.llmgw.core.upstream.inprocess.Credit}), and stops the
 * generation at the next token when the connection closes (the client left, or the gateway gave up
 * on the attempt).
 *
 * <p>Depends on: Netty, llama.cpp's binding, {@code config}, {@code api}, {@code error},
 * {@code ingress}. Must not: block an event loop; depend on the exchange or the server.
 */
package dev.llmgw.core.upstream.inprocess;
