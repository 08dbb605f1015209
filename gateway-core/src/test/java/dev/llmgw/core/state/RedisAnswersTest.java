package dev.llmgw.core.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.llmgw.core.cache.CachedResponse;
import dev.llmgw.core.cache.SharedAnswers;
import dev.llmgw.core.config.Economics;
import dev.llmgw.core.config.StateSettings;
import dev.llmgw.testkit.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The response cache's answers shared through a real Redis: stored and read back with their time to live,
 * and a Redis that refuses them (full, under {@code maxmemory} with {@code noeviction}) costs the cache its
 * write but leaves the store up, so that admission does not fall back to its failOpen/failClosed policy.
 */
class RedisAnswersTest {
  @RegisterExtension
  static final RedisServer redis = RedisServer.perClass();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  RedisStore store(String prefix) {
    return new RedisStore(new StateSettings(StateSettings.Store.REDIS, null, StateSettings.DEFAULT_FLUSH,
        redis.url(), prefix, Duration.ofSeconds(3), false),
        new Economics(Map.of(), 1000, Duration.ofHours(24), null), Clock.systemUTC(), registry);
  }

  static CachedResponse answer(String text) {
    return new CachedResponse(text.getBytes(StandardCharsets.UTF_8), "application/json", false, "local", "small",
        10, 5, 0);
  }

  @Test
  void anAnswerIsSharedWithItsTimeToLive() throws Exception {
    try (RedisStore store = store("share:")) {
      SharedAnswers answers = store.sharedAnswers();
      answers.put("k1", answer("{\"id\":\"one\"}"), Duration.ofSeconds(60));
      await().atMost(Duration.ofSeconds(5)).until(() -> answers.get("k1").get(5, TimeUnit.SECONDS) != null);
      SharedAnswers.Shared shared = answers.get("k1").get(5, TimeUnit.SECONDS);
      assertThat(new String(shared.response().body(), StandardCharsets.UTF_8)).isEqualTo("{\"id\":\"one\"}");
      assertThat(shared.ttl()).isBetween(Duration.ofSeconds(50), Duration.ofSeconds(60));
      assertThat(answers.get("nothing-here").get(5, TimeUnit.SECONDS)).isNull();
    }
  }

  @Test
  void aFullRedisRefusesTheAnswerButTheStoreStaysUp() throws Exception {
    try (RedisStore store = store("full:")) {
      assertThat(redis.command("CONFIG SET maxmemory 1")).isEqualTo("+OK"); // every write is refused: OOM
      try {
        store.sharedAnswers().put("k2", answer("{\"id\":\"two\"}"), Duration.ofSeconds(60));
        await().atMost(Duration.ofSeconds(5))
            .until(() -> registry.counter("gateway.state.errors", "store", "redis").count() >= 1);
        assertThat(store.health().up()).as("an error reply is not an outage: " + store.health()).isTrue();
        assertThat(store.sharedAnswers().get("k2").get(5, TimeUnit.SECONDS)).isNull();
      } finally {
        assertThat(redis.command("CONFIG SET maxmemory 0")).isEqualTo("+OK");
      }
    }
  }

  @Test
  void answersTravelOnTheirOwnConnectionSoAdmissionNeverQueuesBehindThem() throws Exception {
    try (RedisStore store = store("own:")) {
      store.sharedAnswers().put("k3", answer("{\"id\":\"three\"}"), Duration.ofSeconds(60));
      // the health check pings the state connection every second; the cache's last command stays a write
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
        String clients = redis.bulkCommand("CLIENT LIST");
        assertThat(clients).contains("name=llmgw-cache").contains("name=llmgw-state");
        assertThat(line(clients, "name=llmgw-cache")).contains("cmd=psetex");
        assertThat(line(clients, "name=llmgw-state")).contains("cmd=ping");
      });
    }
  }

  private static String line(String clientList, String containing) {
    return clientList.lines().filter(l -> l.contains(containing)).findFirst().orElse("");
  }
}
