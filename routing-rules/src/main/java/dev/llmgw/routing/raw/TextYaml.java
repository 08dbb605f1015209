package dev.llmgw.routing.raw;

import java.util.List;

/**
 * A text condition: matches when any keyword or the regex is found. At least one must be given.
 *
 * @param keywords whole words or phrases, case-insensitive; a trailing {@code *} stands for any end
 *                 of a word ({@code diagnos*}), a leading one for any start ({@code *itis})
 * @param regex    a Java regex found anywhere in the text (use {@code (?i)} for case-insensitivity)
 */
public record TextYaml(List<String> keywords, String regex) {}
