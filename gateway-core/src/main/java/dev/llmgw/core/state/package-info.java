/**
 * Where money and limits live: the {@link dev.llmgw.core.state.StateStore} interface and its three
 * implementations — in memory, embedded (H2 MVStore file, written by a writer thread) and Redis
 * (Lettuce; leases admitted from locally, written back by a flusher, a replay queue while Redis is
 * down) — holding rate windows, budget spend and reservations, per-caller usage and the workflow
 * ledger; the Redis store also shares the response cache's answers between replicas ({@code RedisAnswers}).
 *
 * <p>Depends on: Lettuce and H2 (this package alone may: {@code ArchitectureTest}), Micrometer,
 * {@code config}, {@code economics} (ledger and usage types), {@code cache} (the shared answers' types),
 * {@code log}, {@code error}, and
 * {@code access}'s algorithms (a known cycle, named in {@code ArchitectureTest}). Must not: depend on
 * Netty directly or on the request path ({@code exchange}, {@code upstream}). Threads: {@code admit}
 * and settlement never block (they complete at once or when Redis answers); admin reads may block,
 * bounded by the timeout, off the event loops; the stores' own threads write and check health.
 */
package dev.llmgw.core.state;
