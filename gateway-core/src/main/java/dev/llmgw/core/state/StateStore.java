package dev.llmgw.core.state;

import dev.llmgw.core.access.RateLimits;
import dev.llmgw.core.config.Access;
import dev.llmgw.core.economics.Ledger;
import java.util.concurrent.CompletableFuture;

/**
 * Where money and limits live: per-key rate windows (requests and tokens per minute), budget spend and
 * reservations per key and team, and the workflow ledger. One instance per gateway process, chosen in
 * {@code gateway.yaml} ({@code state.store}):
 *
 * <ul>
 *   <li>{@link MemoryStore}: this process's memory; nothing survives a restart (tests, throwaway runs);
 *   <li>{@link EmbeddedStore}: the memory store's decisions, every settled change written to a local
 *       file (H2 MVStore) by a writer thread within {@code flushInterval}; one process per file;
 *   <li>{@link RedisStore}: Redis, shared by every replica; admission and settlement are atomic
 *       server-side scripts, so N gateways hold one limit and one budget between them.
 * </ul>
 *
 * <p>{@link #admit} never blocks: it completes at once (memory, embedded) or when Redis answers, on any
 * thread. {@link Grant#settle} never blocks and never throws.
 */
public interface StateStore extends AutoCloseable {

  /** {@code memory}, {@code embedded} or {@code redis} (a metric label and the {@code /readyz} field). */
  String kind();

  /**
   * Rate limits, then budgets, for one request of {@code key}: takes one request and {@code tokens}
   * from the key's windows and reserves {@code maxCostMicros} on the key's and its team's budgets,
   * atomically with the checks. A refusal gives nothing back to settle.
   *
   * @return the grant; completes exceptionally with {@link StateUnavailableException} when the store
   *     cannot answer and its policy is to refuse
   */
  CompletableFuture<Grant> admit(Access.ApiKey key, Access.Team team, long tokens, long maxCostMicros);

  /** Whether a soft budget of the key or its team is spent and says to downgrade (never blocks). */
  boolean shouldDowngrade(Access.ApiKey key, Access.Team team);

  /** What a key ({@code key:NAME}) or team ({@code team:NAME}) has spent this period (may block: admin, tests). */
  double spentUsd(String account);

  /** The workflow ledger kept by this store. */
  Ledger ledger();

  /** Where finished requests are counted per key and team (adding never blocks). */
  dev.llmgw.core.economics.CallerUsage usage();

  /** Per-key and per-team totals from {@code from} (UTC day) on, over every replica (may block: admin only). */
  java.util.List<dev.llmgw.core.economics.CallerUsage.Row> usageSince(java.time.LocalDate from);

  /** Answers of the response cache shared by every replica, or null when this store keeps none (memory, embedded). */
  default dev.llmgw.core.cache.SharedAnswers sharedAnswers() {
    return null;
  }

  /** Whether the store can answer now, and a line for {@code /readyz}. */
  Health health();

  @Override
  void close();

  /** The store's state for {@code /readyz} and the metrics. */
  record Health(boolean up, boolean degraded, String detail) {}

  /** Settles an admitted request's tokens and money once; never blocks, never throws. */
  interface Settlement {
    /**
     * @param tokens        tokens really used (prompt + completion; 0 when none)
     * @param actualMicros  the real cost in micro-dollars, or -1 when tokens were used at an unknown
     *                      price (the reservation is then kept as spent)
     */
    void settle(long tokens, long actualMicros);

    Settlement NONE = (t, m) -> { };
  }

  /**
   * What admission decided.
   *
   * @param allowed     whether the request may go on
   * @param rate        the rate-limit figures for the {@code x-ratelimit-*} headers (null without limits)
   * @param limitedBy   {@code requests} or {@code tokens} when a rate limit refused, else null
   * @param retryAfterMillis how long to wait after a rate-limit refusal
   * @param exhausted   {@code key} or {@code team} when a hard budget refused, else null
   * @param reservedMicros what was reserved on the budgets
   * @param settlement  what to call when the request ends (NONE when refused or nothing to settle)
   */
  record Grant(boolean allowed, RateLimits.Admission rate, String limitedBy, long retryAfterMillis, String exhausted,
      long reservedMicros, Settlement settlement) {
    public static final Grant FREE = new Grant(true, null, null, 0, null, 0, Settlement.NONE);
  }
}
