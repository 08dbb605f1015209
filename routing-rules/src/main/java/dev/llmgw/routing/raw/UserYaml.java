package dev.llmgw.routing.raw;

import java.util.List;

/**
 * A {@code user} condition over the OpenAI {@code user} field: exactly one test.
 *
 * @param equals the value equals this text
 * @param in     the value is one of these
 * @param regex  the regex is found in the value
 */
public record UserYaml(String equals, List<String> in, String regex) {}
