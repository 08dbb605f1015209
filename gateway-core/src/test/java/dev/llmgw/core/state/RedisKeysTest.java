package dev.llmgw.core.state;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.config.Access;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RedisKeysTest {
  // 23:30 on Jan 31 in New York is already Feb 1 in UTC: periods are UTC
  static final Clock CLOCK = Clock.fixed(Instant.parse("2025-02-01T04:30:00Z"), ZoneId.of("America/New_York"));
  static final Access.Budget DAILY = new Access.Budget(Access.Period.DAY, 1.5, Double.NaN, false);
  static final Access.Budget MONTHLY = new Access.Budget(Access.Period.MONTH, Double.NaN, 1.0, true);

  @Test
  void keysArePrefixedAndBudgetsNamedByTheirUtcPeriod() {
    RedisKeys k = new RedisKeys("gw:", CLOCK);
    assertThat(k.key("rate", "alice", "requests")).isEqualTo("gw:rate:alice:requests");
    assertThat(k.budget("key", "alice", DAILY)).isEqualTo("gw:budget:key:alice:2025-02-01");
    assertThat(k.budget("team", "t", MONTHLY)).isEqualTo("gw:budget:team:t:2025-02");
    assertThat(k.today()).hasToString("2025-02-01");
  }

  @Test
  void everyWriteGetsItsOwnMarker() {
    RedisKeys k = new RedisKeys("gw:", CLOCK);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      assertThat(seen.add(k.marker())).isTrue();
    }
    assertThat(k.marker()).startsWith("gw:done:" + k.instance() + "-");
    assertThat(new RedisKeys("gw:", CLOCK).instance()).as("another process").isNotEqualTo(k.instance());
  }

  @Test
  void hardLimitsInMicroDollarsAndExpiryByPeriod() {
    assertThat(RedisKeys.hard(null)).isEmpty();
    assertThat(RedisKeys.hard(MONTHLY)).isEqualTo("-1");
    assertThat(RedisKeys.hard(DAILY)).isEqualTo("1500000");
    assertThat(RedisKeys.expiryMillis(DAILY)).isEqualTo(Duration.ofDays(3).toMillis());
    assertThat(RedisKeys.expiryMillis(MONTHLY)).isEqualTo(Duration.ofDays(62).toMillis());
  }
}
