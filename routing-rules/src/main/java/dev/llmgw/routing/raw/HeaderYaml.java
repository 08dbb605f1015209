package dev.llmgw.routing.raw;

import java.util.List;

/**
 * A {@code header} condition: the header {@code name} and exactly one test.
 *
 * @param name    header name (case-insensitive)
 * @param equals  the value equals this text
 * @param in      the value is one of these
 * @param regex   the regex is found in the value
 * @param present {@code true}: the header is sent; {@code false}: it is not
 */
public record HeaderYaml(String name, String equals, List<String> in, String regex, String present) {}
