package dev.llmgw.core.config;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Who may use the gateway and within which limits: gateway keys (stored as SHA-256 hashes, never in
 * clear), teams with budgets, the admin token, and connection limits.
 *
 * @param open             true only when the config says so explicitly: no key needed (logged at start)
 * @param adminTokenSha256 hex SHA-256 of the admin token, or null (admin endpoints then refuse everyone)
 * @param protectMetrics   whether {@code /metrics} needs the admin token
 * @param keys             gateway keys by the hex SHA-256 of the key
 * @param teams            teams by name
 * @param connections      connection limits
 */
public record Access(boolean open, String adminTokenSha256, boolean protectMetrics, Map<String, ApiKey> keys,
    Map<String, Team> teams, ConnectionLimits connections) {

  public Access {
    keys = Collections.unmodifiableMap(new LinkedHashMap<>(keys));
    teams = Collections.unmodifiableMap(new LinkedHashMap<>(teams));
    Objects.requireNonNull(connections, "connections");
  }

  /** An explicitly open gateway with default connection limits (tests, local development). */
  public static Access openAccess() {
    return new Access(true, null, false, Map.of(), Map.of(), ConnectionLimits.defaults());
  }

  /** Budget period, reset at 00:00 UTC (day) or on the 1st at 00:00 UTC (month). */
  public enum Period { DAY, MONTH }

  /**
   * A budget in US dollars.
   *
   * @param hard      above it requests are refused (429 insufficient_quota); NaN for none
   * @param soft      above it work is downgraded a tier (when {@code downgrade}); NaN for none
   * @param downgrade whether crossing the soft budget downgrades (high-stakes → balanced → trivial)
   */
  public record Budget(Period period, double hard, double soft, boolean downgrade) {}

  /**
   * One gateway key.
   *
   * @param name              shown in logs and admin output (never the key itself)
   * @param sha256            hex SHA-256 of the key
   * @param team              the team it belongs to, or null
   * @param tiers             tiers it may use (empty: all)
   * @param models            model aliases it may ask for, {@code auto} included (empty: all)
   * @param requestsPerMinute 0 for no limit
   * @param tokensPerMinute   0 for no limit (prompt estimated at admission, reconciled after)
   * @param budget            its own budget, or null
   * @param revoked           a revoked key gets 401
   * @param mayForceTier      whether it may force a tier with the {@code x-gateway-tier} header
   */
  public record ApiKey(String name, String sha256, String team, Set<String> tiers, Set<String> models,
      int requestsPerMinute, long tokensPerMinute, Budget budget, boolean revoked, boolean mayForceTier) {
    public ApiKey {
      tiers = Set.copyOf(tiers);
      models = Set.copyOf(models);
    }
  }

  /** A team: keys share its budget. */
  public record Team(String name, Budget budget) {}

  /**
   * Connection limits (slowloris and exhaustion defences).
   *
   * @param maxConnections        open client connections beyond which new ones are closed at once
   * @param requestReceiveTimeout time allowed to receive a whole request (head and body)
   */
  public record ConnectionLimits(int maxConnections, Duration requestReceiveTimeout) {
    public static ConnectionLimits defaults() {
      return new ConnectionLimits(10_000, Duration.ofSeconds(30));
    }
  }

  /** Names of everything keyed by hash, for messages. */
  public List<String> keyNames() {
    return keys.values().stream().map(ApiKey::name).toList();
  }
}
