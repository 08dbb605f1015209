/**
 * Who may do what, and within which limits: authentication of API keys and the admin token (hashes
 * only, constant-time comparison), the caller's permissions, and admission ({@link
 * dev.llmgw.core.access.AccessControl}: rate limits, then budget reservations); also the in-memory
 * algorithms the stores use (token buckets, budget accounts, rate-limit figures).
 *
 * <p>Depends on: {@code config}, {@code api}, {@code error}, {@code ingress}, {@code route},
 * {@code state} (where buckets and accounts live), {@code usage} (token estimates). Must not: depend
 * on Netty, or log or return a credential. Known cycles, named in {@code ArchitectureTest}: the stores
 * use this package's algorithms, and {@code AccessControl} borrows the exchange's Retry-After wording.
 * Threads: shared by every event loop; admission never blocks (it completes when the store answers).
 */
package dev.llmgw.core.access;
