package dev.llmgw.core.exchange;

import dev.llmgw.core.route.RoutePlan;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * The gateway's own headers on whatever response an exchange gives: extra ones (rate-limit figures),
 * {@code x-gateway-attempts}, the fallback trail, tier, rule, a downgrade and the serving backend.
 */
final class GatewayHeaders {
  private final RoutePlan plan;
  private final FailureHistory history;
  private HttpHeaders extra;

  GatewayHeaders(RoutePlan plan, FailureHistory history) {
    this.plan = plan;
    this.history = history;
  }

  void extra(HttpHeaders headers) {
    this.extra = headers;
  }

  /** Adds them to a head built fresh (none of them is there yet). */
  void addTo(HttpHeaders h, int attempts, String backend) {
    if (extra != null) {
      h.add(extra);
    }
    h.addInt(ResponseHeads.X_GATEWAY_ATTEMPTS, attempts);
    String trail = history.trail();
    if (trail != null) {
      h.add(ResponseHeads.X_GATEWAY_FALLBACK, trail);
    }
    if (plan.tier() != null) {
      h.add(ResponseHeads.X_GATEWAY_TIER, plan.tier());
      h.add(ResponseHeads.X_GATEWAY_RULE, plan.rule());
    }
    if (plan.downgradedFrom() != null) {
      h.add(ResponseHeads.X_GATEWAY_DOWNGRADED, plan.downgradedFrom() + "->" + plan.tier());
    }
    if (backend != null && !h.contains(ClientResponses.X_GATEWAY_BACKEND)) {
      h.add(ClientResponses.X_GATEWAY_BACKEND, backend);
    }
  }
}
