package dev.llmgw.routing.raw;

import java.util.List;

/**
 * The {@code models} section: what happens when a client names a concrete model alias instead of
 * {@code auto}.
 *
 * @param defaultMode {@code pinned} or {@code route}: the mode of aliases listed in neither list
 * @param pinned      aliases served by exactly that model (the rules still compute the tier)
 * @param route       aliases whose requests are routed by the rules, like {@code auto}
 */
public record ModelsYaml(String defaultMode, List<String> pinned, List<String> route) {}
