package dev.llmgw.routing.raw;

import java.util.List;

/**
 * A {@code metadata} condition: a key of the request's OpenAI {@code metadata} object and exactly one
 * test.
 *
 * @param key     the metadata key (case-sensitive)
 * @param equals  the value equals this text
 * @param in      the value is one of these
 * @param regex   the regex is found in the value
 * @param present {@code true}: the key is set; {@code false}: it is not
 */
public record MetadataYaml(String key, String equals, List<String> in, String regex, String present) {}
