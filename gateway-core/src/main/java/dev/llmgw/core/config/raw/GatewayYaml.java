package dev.llmgw.core.config.raw;

import java.util.Map;

/**
 * The whole file.
 *
 * @param listener  where to listen (optional)
 * @param limits    request and connection limits (optional)
 * @param failover  bounds on one request's retries and fallbacks (optional)
 * @param backends  backends by name, in file order
 * @param models    model aliases by name, in file order
 * @param economics workflow types, repair costs and ledger bounds (optional)
 * @param auth      gateway keys, teams and the admin token (optional: absent means an open gateway)
 * @param state     where money and limits are kept (optional: the embedded store)
 * @param cache     the exact response cache (optional: off)
 * @param tracing   OpenTelemetry traces (optional: off)
 */
public record GatewayYaml(
    ListenerYaml listener,
    LimitsYaml limits,
    FailoverYaml failover,
    Map<String, BackendYaml> backends,
    Map<String, ModelYaml> models,
    EconomicsYaml economics,
    AuthYaml auth,
    StateYaml state,
    CacheYaml cache,
    TracingYaml tracing) {}
