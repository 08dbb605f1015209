package dev.llmgw.core.route;

import java.util.Set;

/**
 * Who is calling, as far as routing cares: the gateway key's name and team (rule conditions
 * {@code apiKey}/{@code team}), whether it may force a tier by header, which tiers and models it may
 * use (empty: all), and whether its soft budget is spent (then its work is downgraded a tier).
 */
public record Caller(String keyName, String team, boolean mayForceTier, Set<String> tiers, Set<String> models,
    boolean downgrade) {

  /** An open gateway's caller: no key, no restrictions; forcing as routing.yaml allows. */
  public static final Caller ANONYMOUS = new Caller(null, null, true, Set.of(), Set.of(), false);

  public Caller {
    tiers = Set.copyOf(tiers);
    models = Set.copyOf(models);
  }

  public boolean mayUseTier(String tier) {
    return tiers.isEmpty() || tiers.contains(tier);
  }

  public boolean mayUseModel(String model) {
    return models.isEmpty() || models.contains(model);
  }
}
