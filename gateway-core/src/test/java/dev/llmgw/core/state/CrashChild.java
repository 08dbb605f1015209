package dev.llmgw.core.state;

import dev.llmgw.core.config.Access;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;

/**
 * The process {@link EmbeddedCrashTest} kills: settles $0.001 every 2 ms on an embedded store and
 * prints each settlement's number once it is settled in memory, until it is killed.
 */
public final class CrashChild {
  private CrashChild() {}

  public static void main(String[] args) throws Exception {
    EmbeddedStore store = new EmbeddedStore(Path.of(args[0]), Duration.ofMillis(Long.parseLong(args[1])),
        StateStoreTest.ECONOMICS, Clock.systemUTC());
    Access.ApiKey key = new Access.ApiKey("crash", "0".repeat(64), null, Set.of(), Set.of(), 0, 0,
        new Access.Budget(Access.Period.DAY, 1_000_000, Double.NaN, false), false, false);
    for (int i = 1; ; i++) {
      store.admit(key, null, 10, 1_000).join().settlement().settle(10, 1_000);
      System.out.println(i);
      System.out.flush();
      Thread.sleep(2);
    }
  }
}
