package dev.llmgw.core.state;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.economics.CallerUsage;
import java.time.LocalDate;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading one day's usage hash (the fields {@code usage-add.lua} writes) back into rows. */
class RedisUsageTest {
  @Test
  void aDayHashBecomesOneRowPerCallerInNameOrder() {
    LocalDate day = LocalDate.of(2025, 3, 4);
    Map<String, String> hash = Map.of(
        "team|support|requests", "3", "team|support|cost", "0.75", "team|support|unpriced", "1",
        "team|support|compared", "0.5", "team|support|baseline", "3.0", "team|support|cacheHits", "2",
        "team|support|cacheSaved", "0.125",
        "key|a|b|requests", "1", "key|a|b|cost", "0.25"); // a name with a bar: the figure is after the last
    assertThat(RedisUsage.rows(day, hash)).containsExactly(
        new CallerUsage.Row(day, "key", "a|b", 1, 0.25, 0, 0, 0),
        new CallerUsage.Row(day, "team", "support", 3, 0.75, 1, 0.5, 3.0, 2, 0.125));
    assertThat(RedisUsage.rows(day, Map.of())).isEmpty();
  }
}
