package dev.llmgw.core.api;

/**
 * The OpenAI endpoints the gateway proxies. {@link #path()} is relative to the API root ({@code /v1}
 * for clients, the backend's base URL path upstream).
 */
public enum Endpoint {
  CHAT_COMPLETIONS("/chat/completions", "messages", true),
  COMPLETIONS("/completions", "prompt", true),
  EMBEDDINGS("/embeddings", "input", false);

  /** What clients put before {@link #path()}. */
  public static final String CLIENT_PREFIX = "/v1";

  private final String path;
  private final String clientPath;
  private final String inputField;
  private final boolean streamable;

  Endpoint(String path, String inputField, boolean streamable) {
    this.path = path;
    this.clientPath = CLIENT_PREFIX + path;
    this.inputField = inputField;
    this.streamable = streamable;
  }

  /** The bounded metric label: {@code chat_completions}, {@code completions}, {@code embeddings}. */
  public String metricName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public String path() {
    return path;
  }

  public String clientPath() {
    return clientPath;
  }

  /** The request field that carries the input and must be present ({@code messages}, ...). */
  public String inputField() {
    return inputField;
  }

  public boolean streamable() {
    return streamable;
  }

  /** The endpoint for a client path such as {@code /v1/chat/completions}, or {@code null}. */
  public static Endpoint ofClientPath(String path) {
    for (Endpoint e : values()) {
      if (e.clientPath.equals(path)) {
        return e;
      }
    }
    return null;
  }
}
