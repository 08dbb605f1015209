package dev.llmgw.core.config.raw;

/**
 * The {@code state} section as written: where money and limits are kept.
 *
 * @param store          {@code embedded} (default), {@code redis} or {@code memory}
 * @param path           the embedded store's file (relative to the config file's directory)
 * @param flushInterval  the embedded store's longest wait before a change is written
 * @param redis          the Redis store's settings
 */
public record StateYaml(String store, String path, String flushInterval, RedisYaml redis) {

  /**
   * @param url           {@code redis://[user:password@]host:port[/db]}; secrets via ${VAR}
   * @param prefix        prefix of every key the gateway writes
   * @param timeout       longest wait for one command
   * @param onUnavailable {@code failOpen} (local limits) or {@code failClosed} (503)
   */
  public record RedisYaml(String url, String prefix, String timeout, String onUnavailable) {}
}
