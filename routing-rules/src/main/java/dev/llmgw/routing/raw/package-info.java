/**
 * The shape of {@code routing.yaml} as written: what Jackson binds the file to before the {@link
 * dev.llmgw.routing.RuleCompiler} checks and compiles it.
 *
 * <p>Scalars are kept as the text written (a YAML number or boolean arrives as its text) so that the
 * compiler, not the binder, decides what is valid and can say what was expected. Record component
 * names are exactly the YAML keys, so a binder may reject unknown keys by reflecting on the
 * components. A {@code null} field means the key was absent (or written with no value). Nothing here
 * is validated.
 *
 * <p>Depends on: the JDK only (checked by {@code ArchitectureTest}); Jackson binds these records by
 * reflection, without annotations.
 */
package dev.llmgw.routing.raw;
