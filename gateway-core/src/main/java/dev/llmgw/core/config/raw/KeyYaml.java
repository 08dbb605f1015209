package dev.llmgw.core.config.raw;

import java.util.List;

/**
 * One gateway key as written (the map key is its name).
 *
 * @param sha256            hex SHA-256 of the key (never the key itself)
 * @param team              the team it belongs to
 * @param tiers             tiers it may use (absent: all)
 * @param models            model aliases it may ask for, {@code auto} included (absent: all)
 * @param requestsPerMinute 0 or absent for no limit
 * @param tokensPerMinute   0 or absent for no limit
 * @param budget            its own budget
 * @param revoked           {@code true} to refuse it
 * @param mayForceTier      whether it may force a tier with {@code x-gateway-tier}
 */
public record KeyYaml(
    String sha256,
    String team,
    List<String> tiers,
    List<String> models,
    String requestsPerMinute,
    String tokensPerMinute,
    BudgetYaml budget,
    String revoked,
    String mayForceTier) {}
