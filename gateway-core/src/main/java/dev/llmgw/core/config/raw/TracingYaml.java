package dev.llmgw.core.config.raw;

import java.util.Map;

/**
 * The {@code tracing} section as written: OpenTelemetry traces exported over OTLP.
 *
 * @param enabled     {@code true} or {@code false} (the default)
 * @param endpoint    where spans are POSTed (OTLP/HTTP), e.g. {@code http://127.0.0.1:4318/v1/traces}
 * @param protocol    {@code http/protobuf} (the only one)
 * @param headersEnv  headers sent with every export (a collector's auth), each naming the environment
 *                    variable that holds its value
 * @param sampleRatio share of new traces recorded, 0..1 (a client's sampled flag is followed)
 * @param serviceName {@code service.name} of the spans
 */
public record TracingYaml(String enabled, String endpoint, String protocol, Map<String, String> headersEnv,
    String sampleRatio, String serviceName) {}
