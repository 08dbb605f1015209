/**
 * The shape of {@code gateway.yaml} as written: what Jackson binds the file to before validation.
 *
 * <p>Scalars are kept as the text written (a YAML number or boolean arrives as its text) so that the
 * compiler, not the binder, decides what is valid and can say what was expected. Nothing here is
 * validated; {@code dev.llmgw.core.config.ConfigLoader} compiles these records into the
 * {@code GatewayConfig} records. A {@code null} field means the key was absent (or written with no
 * value).
 *
 * <p>Depends on: the JDK only (checked by {@code ArchitectureTest}); Jackson binds these records by
 * reflection, without annotations.
 */
package dev.llmgw.core.config.raw;
