/**
 * The backend side of the wire: the I/O transport (epoll or NIO, whose loops also host in-VM
 * channels), keep-alive connection pools per (backend, event loop), the handler that sits on every
 * backend channel, and the request built fresh for a backend (model rewritten, provider key from
 * config, nothing of the client's headers). In-process backends (a GGUF model run inside the gateway)
 * live in {@code upstream.inprocess} and are reached over in-VM channels from the same pools.
 *
 * <p>Depends on: Netty, {@code config}, {@code api}, {@code ingress}, {@code route}, {@code usage}
 * and {@code http}. Must not: forward client headers or log provider keys; depend on the exchange or
 * the server. Threads: a backend channel lives on its client's event loop; names resolve with Netty's
 * non-blocking resolver; nothing here blocks an event loop.
 */
package dev.llmgw.core.upstream;
