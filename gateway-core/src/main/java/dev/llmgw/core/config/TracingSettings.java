package dev.llmgw.core.config;

import java.net.URI;
import java.util.Map;

/**
 * OpenTelemetry tracing ({@code tracing} in gateway.yaml): off by default. Read at start only: a
 * reload that changes it takes effect at the next restart.
 *
 * @param enabled     whether spans are recorded and exported (off: a no-op tracer, nothing recorded)
 * @param endpoint    the OTLP/HTTP URL spans are POSTed to
 * @param headers     headers sent with every export, values read from the environment (may be
 *                    secrets: never printed, see {@link #toString()})
 * @param sampleRatio share of new traces recorded, 0..1; a client's sampled flag is followed
 * @param serviceName the {@code service.name} resource attribute
 */
public record TracingSettings(boolean enabled, URI endpoint, Map<String, String> headers, double sampleRatio,
    String serviceName) {

  public static final URI DEFAULT_ENDPOINT = URI.create("http://127.0.0.1:4318/v1/traces");
  public static final String DEFAULT_SERVICE = "llm-gateway";
  public static final String PROTOCOL = "http/protobuf";

  public TracingSettings {
    headers = Map.copyOf(headers);
  }

  /** Tracing off (the default). */
  public static TracingSettings off() {
    return new TracingSettings(false, DEFAULT_ENDPOINT, Map.of(), 1.0, DEFAULT_SERVICE);
  }

  @Override
  public String toString() { // header values are credentials
    return "TracingSettings[enabled=" + enabled + ", endpoint=" + endpoint + ", headers=" + headers.keySet()
        + ", sampleRatio=" + sampleRatio + ", serviceName=" + serviceName + "]";
  }
}
