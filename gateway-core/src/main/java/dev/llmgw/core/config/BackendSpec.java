package dev.llmgw.core.config;

import java.net.URI;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One model server the gateway forwards to (llama.cpp, Ollama, vLLM or a remote OpenAI-compatible
 * provider).
 *
 * @param name           the backend's name, used in logs, headers and metric labels
 * @param baseUrl        the OpenAI-compatible base URL including its path prefix, e.g.
 *                       {@code http://127.0.0.1:8081/v1}; the endpoint path ({@code /chat/completions})
 *                       is appended
 * @param apiKeyEnv      name of the environment variable holding the provider key, or {@code null}
 * @param apiKey         the provider key read from that variable, or {@code null}; never logged:
 *                       {@link #toString()} redacts it
 * @param enabled        whether requests may go to this backend
 * @param disabledReason why it is disabled (for start-up lines and error messages), or {@code null}
 * @param models         the backend model names it serves
 * @param timeouts       its timeouts
 * @param maxConnections most pooled connections per event loop
 * @param resilience     breaker, bulkhead, rate limit, retry and health-check policy
 * @param inprocess      for a backend of {@code type: inprocess} (a GGUF file run inside the gateway),
 *                       its model settings; {@code null} for an HTTP backend. Such a backend's
 *                       {@code baseUrl} is {@link #INPROCESS_URL}: requests reach it over an in-VM
 *                       channel, never the network
 * @param addressEnv     the environment variable the backend's address was read from (its {@code baseUrl},
 *                       or the {@code model} file of an in-process backend), or {@code null} when the file
 *                       writes it out; lets the gateway tell an operator which variable points it elsewhere
 */
public record BackendSpec(
    String name,
    URI baseUrl,
    String apiKeyEnv,
    String apiKey,
    boolean enabled,
    String disabledReason,
    List<String> models,
    Timeouts timeouts,
    int maxConnections,
    Resilience resilience,
    InProcessSpec inprocess,
    String addressEnv) {

  /** The base URL of every in-process backend (the path its requests carry; no host is dialled). */
  public static final URI INPROCESS_URL = URI.create("inprocess://localhost/v1");

  /** An HTTP backend. */
  public BackendSpec(String name, URI baseUrl, String apiKeyEnv, String apiKey, boolean enabled,
      String disabledReason, List<String> models, Timeouts timeouts, int maxConnections, Resilience resilience) {
    this(name, baseUrl, apiKeyEnv, apiKey, enabled, disabledReason, models, timeouts, maxConnections, resilience,
        null, null);
  }

  /** A backend whose address is written out in the file (no {@link #addressEnv()}). */
  public BackendSpec(String name, URI baseUrl, String apiKeyEnv, String apiKey, boolean enabled,
      String disabledReason, List<String> models, Timeouts timeouts, int maxConnections, Resilience resilience,
      InProcessSpec inprocess) {
    this(name, baseUrl, apiKeyEnv, apiKey, enabled, disabledReason, models, timeouts, maxConnections, resilience,
        inprocess, null);
  }

  /** The same backend, its address read from the environment variable {@code variable} (or null). */
  public BackendSpec withAddressEnv(String variable) {
    return new BackendSpec(name, baseUrl, apiKeyEnv, apiKey, enabled, disabledReason, models, timeouts,
        maxConnections, resilience, inprocess, variable);
  }

  /** An in-process backend: a GGUF file run inside the gateway (see {@link InProcessSpec}). */
  public static BackendSpec inProcess(String name, InProcessSpec spec, List<String> models, Timeouts timeouts,
      Resilience resilience) {
    return new BackendSpec(name, INPROCESS_URL, null, null, true, null, models, timeouts,
        Math.max(spec.maxSequences() + spec.queue(), 1), resilience, spec);
  }

  public boolean isInProcess() {
    return inprocess != null;
  }

  public BackendSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(baseUrl, "baseUrl");
    Objects.requireNonNull(timeouts, "timeouts");
    Objects.requireNonNull(resilience, "resilience");
    models = List.copyOf(models);
  }

  public boolean tls() {
    return "https".equalsIgnoreCase(baseUrl.getScheme());
  }

  public String host() {
    return baseUrl.getHost();
  }

  public int port() {
    return baseUrl.getPort() != -1 ? baseUrl.getPort() : tls() ? 443 : 80;
  }

  /** The base path without a trailing slash, e.g. {@code /v1}; empty when the URL has none. */
  public String basePath() {
    String p = baseUrl.getRawPath() == null ? "" : baseUrl.getRawPath();
    return p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
  }

  public Optional<String> providerKey() {
    return Optional.ofNullable(apiKey).filter(k -> !k.isEmpty());
  }

  /**
   * The name and base URL only (both hash once and cache it): a backend is a map key on the request
   * path (its connection pools), and the derived hash walked every component, the model list and the
   * nested timeout and resilience records included, on every request. Equal backends still hash
   * equal; {@code equals} still compares every component.
   */
  @Override
  public int hashCode() {
    return 31 * name.hashCode() + baseUrl.hashCode();
  }

  /** Redacts the provider key: a config dump or a log line never carries it. */
  @Override
  public String toString() {
    return "BackendSpec[name=" + name + ", baseUrl=" + baseUrl + ", apiKeyEnv=" + apiKeyEnv
        + ", apiKey=" + (apiKey == null ? "none" : "<redacted>") + ", enabled=" + enabled
        + ", models=" + models + ", timeouts=" + timeouts + ", maxConnections=" + maxConnections
        + ", resilience=" + resilience + (inprocess == null ? "" : ", inprocess=" + inprocess) + "]";
  }
}
