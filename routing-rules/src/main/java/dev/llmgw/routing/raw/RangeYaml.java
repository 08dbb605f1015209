package dev.llmgw.routing.raw;

/**
 * A numeric range; at least one bound, at most one lower and one upper.
 *
 * @param gt  greater than
 * @param gte greater than or equal
 * @param lt  less than
 * @param lte less than or equal
 */
public record RangeYaml(String gt, String gte, String lt, String lte) {}
