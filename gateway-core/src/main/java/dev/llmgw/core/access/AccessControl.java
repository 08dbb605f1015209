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
import java.time.Clock;

/**
 * The access decisions for one API request, in order: who it is ({@link Authenticator}), what it may
 * do ({@link #caller}: tiers, models, forcing, soft-budget downgrade), whether its key's rate limits
 * admit it, and the budget reservation for its estimated maximum cost. Shared by all event loops;
 * the state it keeps (buckets, accounts) is per key and survives config reloads.
 */
public final class AccessControl {
  /** Output tokens assumed for the budget reservation when the request sets no max_tokens. */
  public static final int DEFAULT_MAX_OUTPUT_TOKENS = 4096;

  private final RateLimits rateLimits;
  private final Budgets budgets;

  public AccessControl(Clock clock) {
    this.rateLimits = new RateLimits(System::nanoTime);
    this.budgets = new Budgets(clock);
  }

  public Budgets budgets() {
    return budgets;
  }

  /** The routing view of an identity; {@code downgrade} when a soft budget is spent. */
  public Caller caller(Identity id, Access access) {
    Access.ApiKey key = id.key();
    if (key == null) {
      return Caller.ANONYMOUS;
    }
    Access.Team team = key.team() == null ? null : access.teams().get(key.team());
    return new Caller(key.name(), key.team(), key.mayForceTier(), key.tiers(), key.models(),
        budgets.shouldDowngrade(key, team));
  }

  /** A request let in: what to settle when it ends. */
  public record Ticket(RateLimits.Admission rate, Budgets.Reservation reservation) {
    public static final Ticket FREE = new Ticket(null, null);

    /** Settles tokens and money with what the request really used. */
    public void settle(long tokens, double costUsd) {
      if (rate != null) {
        rate.settleTokens(tokens, System.nanoTime());
      }
      if (reservation != null) {
        reservation.settle(costUsd);
      }
    }
  }

  /**
   * Admits a request: rate limits, then budgets.
   *
   * @throws LimitedException 429 with Retry-After and {@code x-ratelimit-*} figures when a rate limit
   *     is reached, or {@code insufficient_quota} when a hard budget would be exceeded
   */
  public Ticket admit(Identity id, Access access, ParsedRequest request, RoutePlan plan) {
    Access.ApiKey key = id.key();
    if (key == null) {
      return Ticket.FREE;
    }
    Access.Team team = key.team() == null ? null : access.teams().get(key.team());
    boolean needsEstimate = key.tokensPerMinute() > 0 || key.budget() != null || (team != null && team.budget() != null);
    long prompt = needsEstimate ? TokenEstimator.promptTokens(request.json()) : 0;
    long maxOutput = request.maxOutputTokens() > 0 ? request.maxOutputTokens() : DEFAULT_MAX_OUTPUT_TOKENS;
    RateLimits.Admission rate = rateLimits.admit(key, prompt + maxOutput);
    if (!rate.allowed()) {
      throw new LimitedException(new GatewayError(429, "rate_limit_error", "rate_limit_exceeded", null,
          "Rate limit reached for key '" + key.name() + "' on " + rate.limitedBy() + " per minute; retry after "
              + ClientResponses.retryAfterSeconds(rate.retryAfterMillis()) + " s."), rate);
    }
    Budgets.Verdict verdict = budgets.admit(key, team, maxCost(plan, prompt, maxOutput));
    if (!verdict.allowed()) {
      if (rate.tokenBucket() != null) {
        rate.settleTokens(0, System.nanoTime()); // not served: give the tokens back
      }
      throw new LimitedException(new GatewayError(429, "insufficient_quota", "insufficient_quota", null,
          "The " + verdict.exhausted() + " budget of key '" + key.name() + "' is spent for this period."), null);
    }
    return new Ticket(rate, verdict.reservation());
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
