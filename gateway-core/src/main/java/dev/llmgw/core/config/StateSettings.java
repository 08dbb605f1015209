package dev.llmgw.core.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Where the gateway keeps money and limits (budgets, reservations, rate windows, the workflow ledger).
 * Read at start only: a reload that changes it takes effect at the next restart.
 *
 * @param store         which implementation
 * @param path          the embedded store's file (absolute)
 * @param flushInterval the embedded store's longest wait before a settled change is on disk
 * @param redisUrl      the Redis store's URL (may hold a password: never print it, see {@link #redisTarget()})
 * @param prefix        prefix of every Redis key
 * @param timeout       longest wait for one Redis command
 * @param failOpen      Redis unreachable: true admits with this process's own limits, false answers 503
 */
public record StateSettings(Store store, Path path, Duration flushInterval, String redisUrl, String prefix,
    Duration timeout, boolean failOpen) {

  /** The implementations. */
  public enum Store { MEMORY, EMBEDDED, REDIS }

  public static final Duration DEFAULT_FLUSH = Duration.ofMillis(100);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(250);
  public static final String DEFAULT_PREFIX = "llmgw:";

  /** In memory only (configs built in code, tests): nothing survives a restart. */
  public static StateSettings memory() {
    return new StateSettings(Store.MEMORY, null, DEFAULT_FLUSH, null, DEFAULT_PREFIX, DEFAULT_TIMEOUT, true);
  }

  /** The Redis host and port without user, password or database: safe for logs and admin output. */
  public String redisTarget() {
    if (redisUrl == null) {
      return null;
    }
    try {
      URI u = URI.create(redisUrl);
      return u.getScheme() + "://" + u.getHost() + ":" + (u.getPort() < 0 ? 6379 : u.getPort());
    } catch (IllegalArgumentException e) {
      return "(unparsable URL)";
    }
  }

  @Override
  public String toString() { // the URL may carry a password
    return "StateSettings[store=" + store + ", path=" + path + ", flushInterval=" + flushInterval + ", redis="
        + redisTarget() + ", prefix=" + prefix + ", timeout=" + timeout + ", failOpen=" + failOpen + "]";
  }
}
