package dev.llmgw.core.state;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.config.StateSettings;
import dev.llmgw.testkit.RedisServer;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.ScriptOutputType;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Redis store's connection on its own, against a real Redis: which failures mark it down, the
 * writes kept while it is down and replayed in order by the health check, the bounded queue, and a
 * script Redis does not know yet.
 */
class RedisLinkTest {
  @RegisterExtension
  static final RedisServer redis = RedisServer.perClass();
  SimpleMeterRegistry registry = new SimpleMeterRegistry();

  RedisLink link(int replayBound) {
    return new RedisLink(new StateSettings(StateSettings.Store.REDIS, null, StateSettings.DEFAULT_FLUSH, redis.url(),
        "link:", Duration.ofMillis(300), true), registry, replayBound);
  }

  @Test
  void aTimeoutConcernsItsRequestOnlyButAnErrorMarksRedisDownUntilItAnswersAgain() {
    RedisLink link = link(10);
    try {
      assertThat(RedisLink.isTimeout(new CompletionException(new RedisCommandTimeoutException("slow")))).isTrue();
      link.failed("lease", new CompletionException(new RedisCommandTimeoutException("slow")));
      assertThat(link.isUp()).isTrue();
      assertThat(link.lastError()).isEqualTo("lease: RedisCommandTimeoutException slow");
      link.failed("flush", new RedisConnectionException("connection reset"));
      assertThat(link.isUp()).isFalse();
      assertThat(link.health().up()).isFalse();
      assertThat(link.health().detail()).contains("unavailable (flush: RedisConnectionException connection reset)")
          .contains("admitting with local limits");
      assertThat(registry.counter("gateway.state.errors", "store", "redis").count()).isEqualTo(2);
      link.check(); // Redis answers the ping
      assertThat(link.isUp()).isTrue();
      assertThat(link.lastError()).isNull();
      assertThat(link.health()).isEqualTo(new StateStore.Health(true, false, "redis " + redis.url()));
    } finally {
      link.close();
    }
  }

  @Test
  void writesSentWhileDownWaitAndAreReplayedInOrderWhatDoesNotFitIsCounted() throws Exception {
    RedisLink link = link(3);
    try {
      link.failed("test", new RedisConnectionException("down"));
      List<Integer> order = new ArrayList<>();
      for (int i = 1; i <= 4; i++) {
        int n = i;
        link.send(() -> link.async().rpush("link:order", Integer.toString(n))
            .thenAccept(x -> order.add(n)), "test");
      }
      assertThat(link.pendingReplay()).isEqualTo(3);
      assertThat(registry.counter("gateway.state.replay.dropped").count()).isEqualTo(1);
      assertThat(link.sync().llen("link:order")).as("nothing sent while down").isZero();
      link.check();
      assertThat(order).containsExactly(1, 2, 3);
      assertThat(link.sync().lrange("link:order", 0, -1)).containsExactly("1", "2", "3");
      assertThat(link.pendingReplay()).isZero();
      assertThat(registry.counter("gateway.state.replayed").count()).isEqualTo(3);
      assertThat(link.health().degraded()).isFalse();
    } finally {
      link.close();
    }
  }

  @Test
  void aFailedWriteIsQueuedAndMarksRedisDown() throws Exception {
    RedisLink link = link(10);
    try {
      CompletableFuture<Object> fails = new CompletableFuture<>();
      link.send(() -> fails, "flush");
      assertThat(link.pendingReplay()).isZero();
      fails.completeExceptionally(new RedisConnectionException("gone"));
      assertThat(link.isUp()).isFalse();
      assertThat(link.pendingReplay()).isEqualTo(1);
      assertThat(link.health().detail()).contains("flush: RedisConnectionException gone");
    } finally {
      link.close();
    }
  }

  @Test
  void aScriptRedisDoesNotKnowIsSentWholeAndThenRunsByItsSha() throws Exception {
    RedisLink link = link(10);
    try {
      RedisScript script = RedisScript.load("bucket-return.lua");
      assertThat(script.sha()).matches("[0-9a-f]{40}");
      link.sync().scriptFlush();
      assertThat(link.sync().scriptExists(script.sha())).containsExactly(false);
      String[] keys = {"link:bucket", "link:done:1"};
      Long first = script.<Long>run(link.async(), ScriptOutputType.INTEGER, keys, new String[] {"10", "0"})
          .get(5, TimeUnit.SECONDS);
      assertThat(first).isNotNull();
      assertThat(link.sync().scriptExists(script.sha())).containsExactly(true);
    } finally {
      link.close();
    }
  }
}
