package dev.llmgw.core.access;

import dev.llmgw.core.config.Access;
import dev.llmgw.core.config.Price;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;
import dev.llmgw.core.exchange.ClientResponses;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.route.Caller;
import dev.llmgw.core.route.Route;
import dev.llmgw.core.route.RoutePlan;
import dev.llmgw.core.usage.TokenEstimator;
import dev.llmgw.core.state.MemoryStore;
import dev.llmgw.core.state.StateStore;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;

/**
 * The access decisions for one API request, in order: who it is ({@link Authenticator}), what it may
 * do ({@link #caller}: tiers, models, forcing, soft-budget downgrade), whether its key's rate limits
 * admit it, and the budget reservation for its estimated maximum cost. Shared by all event loops;
 * the state (buckets, accounts) lives in the {@link StateStore}, per key, and survives config reloads.
 */
public final class AccessControl {
  /** Output tokens assumed per choice when the request sets no max_tokens (and sent upstream as its bound). */
  public static final int DEFAULT_MAX_OUTPUT_TOKENS = 4096;

  private final StateStore store;

  /** Access control over an in-memory store (tests, configs built in code). */
  public AccessControl(Clock clock) {
    this(new MemoryStore(dev.llmgw.core.config.Economics.defaults(), clock));
  }

  public AccessControl(StateStore store) {
    this.store = store;
  }

  public StateStore store() {
    return store;
  }

  /** The routing view of an identity; {@code downgrade} when a soft budget is spent. */
  public Caller caller(Identity id, Access access) {
    Access.ApiKey key = id.key();
    if (key == null) {
      return Caller.ANONYMOUS;
    }
    Access.Team team = key.team() == null ? null : access.teams().get(key.team());
    return new Caller(key.name(), key.team(), key.mayForceTier(), key.tiers(), key.models(),
        store.shouldDowngrade(key, team));
  }

  /**
   * The routing view of the key named {@code keyName} in {@code access}, as live routing sees it
   * (tiers, models, forcing, and the soft-budget downgrade from its current spend) — for explain.
   *
   * @throws GatewayException 404-like {@code invalid_request_error} when no key has that name
   */
  public Caller callerNamed(String keyName, Access access) {
    for (Access.ApiKey k : access.keys().values()) {
      if (k.name().equals(keyName)) {
        return caller(new Identity(k, false), access);
      }
    }
    throw new GatewayException(GatewayError.invalidValue("key", "Invalid 'key': no gateway key is named '"
        + keyName + "' (expected one of: " + String.join(", ", access.keyNames()) + ")."));
  }

  /** A request let in: what to settle when it ends. */
  public record Ticket(RateLimits.Admission rate, StateStore.Settlement settlement) {
    public static final Ticket FREE = new Ticket(null, StateStore.Settlement.NONE);

    /**
     * Settles tokens and money with what the request really used, exactly once by its caller.
     *
     * @param tokens  tokens used, 0 when no backend produced any
     * @param costUsd the cost (failed attempts' estimates included), NaN when unknown: with tokens
     *                used, the reservation is kept as spent (an unpriced model); without, nothing is
     *                charged (every attempt failed before a backend accepted the request)
     */
    public void settle(long tokens, double costUsd) {
      long micros = !Double.isNaN(costUsd) ? Math.max(0, Math.round(costUsd * 1_000_000)) : tokens > 0 ? -1 : 0;
      settlement.settle(Math.max(0, tokens), micros);
    }
  }

  /**
   * Admits a request: rate limits, then budgets. The reservation bounds what the request can cost:
   * its prompt plus {@code choices × max output tokens} at the most expensive candidate's price; a
   * request under a budget that sets no output bound gets {@link #DEFAULT_MAX_OUTPUT_TOKENS} sent
   * upstream as {@code max_tokens}, so the backend cannot bill beyond what was reserved.
   *
   * @return the ticket, completed at once for in-process stores; failed with {@link LimitedException}
   *     (429 with Retry-After and {@code x-ratelimit-*} figures, or {@code insufficient_quota}) or
   *     {@link dev.llmgw.core.state.StateUnavailableException} (503)
   */
  public CompletableFuture<Ticket> admit(Identity id, Access access, ParsedRequest request, RoutePlan plan) {
    Access.ApiKey key = id.key();
    if (key == null) {
      return FREE_TICKET;
    }
    Access.Team team = key.team() == null ? null : access.teams().get(key.team());
    boolean budgeted = key.budget() != null || (team != null && team.budget() != null);
    boolean needsEstimate = key.tokensPerMinute() > 0 || budgeted;
    long prompt = needsEstimate ? TokenEstimator.promptTokens(request.json()) : 0;
    long perChoice = request.maxOutputTokens() > 0 ? request.maxOutputTokens() : DEFAULT_MAX_OUTPUT_TOKENS;
    if (budgeted && request.maxOutputTokens() <= 0 && request.outputBound() < 0
        && request.endpoint() != dev.llmgw.core.api.Endpoint.EMBEDDINGS) {
      request.boundOutput(DEFAULT_MAX_OUTPUT_TOKENS);
    }
    long maxOutput = request.endpoint() == dev.llmgw.core.api.Endpoint.EMBEDDINGS ? 0
        : multiply(perChoice, request.choices());
    long micros = budgeted ? Math.max(0, Math.round(maxCost(plan, prompt, maxOutput) * 1_000_000)) : 0;
    return store.admit(key, team, prompt + maxOutput, micros).thenApply(grant -> ticket(key, grant));
  }

  private static final CompletableFuture<Ticket> FREE_TICKET = CompletableFuture.completedFuture(Ticket.FREE);

  private static long multiply(long a, long b) {
    long r = a * b;
    return (a | b) >>> 31 == 0 || r / b == a ? r : Long.MAX_VALUE;
  }

  private static Ticket ticket(Access.ApiKey key, StateStore.Grant grant) {
    if (grant.allowed()) {
      return new Ticket(grant.rate(), grant.settlement());
    }
    if (grant.limitedBy() != null) {
      throw new LimitedException(GatewayError.rateLimited("Rate limit reached for key '" + key.name() + "' on "
          + grant.limitedBy() + " per minute; retry after "
          + ClientResponses.retryAfterSeconds(grant.retryAfterMillis()) + " s."), grant.rate());
    }
    throw new LimitedException(GatewayError.insufficientQuota("The " + grant.exhausted() + " budget of key '"
        + key.name() + "' is spent for this period."), null);
  }

  /** The most this request can cost: its tokens at the most expensive candidate's prices. */
  static double maxCost(RoutePlan plan, long prompt, long maxOutput) {
    double max = 0;
    for (Route r : plan.candidates()) {
      Price p = r.alias().price();
      if (p != null) {
        max = Math.max(max, p.cost(prompt, 0, maxOutput));
      }
    }
    return max;
  }

  /** A 429 with the rate-limit figures for the response headers (null for budget refusals). */
  public static final class LimitedException extends GatewayException {
    private static final long serialVersionUID = 1L;
    private final transient RateLimits.Admission rate;

    LimitedException(GatewayError error, RateLimits.Admission rate) {
      super(error);
      this.rate = rate;
    }

    public RateLimits.Admission rate() {
      return rate;
    }
  }
}
