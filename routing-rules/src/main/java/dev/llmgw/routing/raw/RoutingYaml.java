package dev.llmgw.routing.raw;

import java.util.List;
import java.util.Map;

/**
 * The whole {@code routing.yaml}.
 *
 * @param version     optional policy version, a non-negative integer reported by the policy
 * @param defaultTier the tier of a request that no rule matches (mandatory)
 * @param tiers       tiers by name, in file order, each with its ordered targets
 * @param models      what a request naming a concrete model alias gets: pinned or routed (optional)
 * @param forceTier   whether (and through which header) a client may force a tier (optional)
 * @param rules       the rules, tried in order; the first that matches decides the tier
 * @param classifier  the semantic classifier and the judge (optional)
 */
public record RoutingYaml(
    String version,
    String defaultTier,
    Map<String, TierYaml> tiers,
    ModelsYaml models,
    ForceTierYaml forceTier,
    List<RuleYaml> rules,
    ClassifierYaml classifier) {}
