package dev.llmgw.routing.raw;

/**
 * The {@code forceTier} section.
 *
 * @param header  the request header that names a tier, e.g. {@code x-gateway-tier}
 * @param allowed {@code true} or {@code false}, as written
 */
public record ForceTierYaml(String header, String allowed) {}
