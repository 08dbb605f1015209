package dev.llmgw.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.llmgw.core.config.Access;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.config.StateSettings;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.testkit.FakeBackend;
import dev.llmgw.testkit.RedisServer;
import dev.llmgw.testkit.TestConfigs;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The response cache shared through the Redis state store: an answer stored by one gateway is a hit on
 * another (plain and streamed, byte for byte), keeps what is left of its time to live, and with Redis
 * gone each gateway goes on with its own cache.
 */
class SharedCacheIT {
  @RegisterExtension
  static final RedisServer redis = RedisServer.perClass();
  FakeBackend backend;
  GatewayServer one;
  GatewayServer two;
  final CacheIT http = new CacheIT();
  String prefix;

  @BeforeEach
  void start() throws Exception {
    backend = new FakeBackend();
    backend.behave((ex, body) -> {
      if (body.contains("\"stream\":true")) {
        OutputStream out = FakeBackend.startSse(ex);
        FakeBackend.event(out, CacheIT.CHUNK.formatted("four"));
        FakeBackend.event(out, "[DONE]");
      } else {
        FakeBackend.json(ex, 200, CacheIT.ANSWER);
      }
    });
    prefix = "shared-cache-" + System.nanoTime() + ":";
    one = gateway(prefix);
    two = gateway(prefix);
  }

  @AfterEach
  void stop() {
    for (GatewayServer g : new GatewayServer[] {one, two}) {
      if (g != null) {
        g.stop(Duration.ofMillis(200));
      }
    }
    backend.close();
  }

  GatewayServer gateway(String prefix) throws Exception {
    GatewayConfig base = TestConfigs.oneBackend(backend.baseUrl());
    Map<String, ModelAlias> models = new LinkedHashMap<>();
    base.models().forEach((k, m) -> models.put(k, new ModelAlias(m.alias(), m.backend(), m.backendModel(), m.ownedBy(),
        m.contextTokens(), m.fallbacks(), CacheIT.PRICE)));
    GatewayConfig config = new GatewayConfig(null, base.listener(), base.limits(), base.backends(), models,
        base.failover(), base.economics(), Access.openAccess())
        .withState(new StateSettings(StateSettings.Store.REDIS, null, StateSettings.DEFAULT_FLUSH, redis.url(), prefix,
            Duration.ofMillis(250), true))
        .withCache(CacheIT.settings(1 << 20));
    return new GatewayServer(config, Transport.best(), 1).start();
  }

  /** Answers in Redis (this test's prefix is unique, so every gateway of it shares them). */
  int cacheKeys() throws Exception {
    String reply = redis.command("EVAL \"return #redis.call('KEYS', '" + prefix + "cache:*')\" 0");
    return Integer.parseInt(reply.substring(1));
  }

  HttpResponse<String> post(GatewayServer gw, String body) throws Exception {
    http.gw = gw;
    return http.post(body);
  }

  @Test
  void anAnswerStoredByOneGatewayIsAHitOnAnother() throws Exception {
    HttpResponse<String> first = post(one, CacheIT.CHAT);
    assertThat(CacheIT.cache(first)).isEqualTo("miss");
    // the write to Redis is asynchronous: the other gateway sees it once it landed
    await().atMost(Duration.ofSeconds(5)).until(() -> cacheKeys() == 1);
    HttpResponse<String> second = post(two, CacheIT.CHAT);
    assertThat(CacheIT.cache(second)).isEqualTo("hit");
    assertThat(second.body()).isEqualTo(first.body());
    assertThat(backend.bodies).hasSize(1);
    assertThat(two.cache().entries()).as("kept locally after the shared hit").isEqualTo(1);
    assertThat(post(two, CacheIT.CHAT).body()).isEqualTo(CacheIT.ANSWER);
    assertThat(backend.bodies).hasSize(1);

    String stream = CacheIT.CHAT.replace("\"temperature\":0", "\"temperature\":0,\"stream\":true");
    HttpResponse<String> streamed = post(two, stream);
    assertThat(CacheIT.cache(streamed)).isEqualTo("miss");
    await().atMost(Duration.ofSeconds(5)).until(() -> cacheKeys() == 2);
    HttpResponse<String> replayed = post(one, stream);
    assertThat(CacheIT.cache(replayed)).isEqualTo("hit");
    assertThat(replayed.body()).isEqualTo(streamed.body()).endsWith("data: [DONE]\n\n");
    assertThat(replayed.headers().firstValue("content-type")).hasValueSatisfying(
        ct -> assertThat(ct).startsWith("text/event-stream"));
    assertThat(backend.bodies).hasSize(2);
  }

  @Test
  void withRedisGoneEachGatewayKeepsItsOwnCache() throws Exception {
    redis.kill();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> !one.state().health().up());
      assertThat(CacheIT.cache(post(one, CacheIT.CHAT))).isEqualTo("miss");
      assertThat(CacheIT.cache(post(one, CacheIT.CHAT))).isEqualTo("hit");
      assertThat(CacheIT.cache(post(two, CacheIT.CHAT))).isEqualTo("miss");
      assertThat(backend.bodies).hasSize(2);
    } finally {
      redis.restart();
    }
  }
}
