package dev.llmgw.routing.raw;

import java.util.List;

/**
 * An {@code apiKey} or {@code team} condition: exactly one test.
 *
 * @param equals the name equals this text
 * @param in     the name is one of these
 */
public record IdentityYaml(String equals, List<String> in) {}
