package dev.llmgw.core.exchange;

import static dev.llmgw.core.exchange.ExchangeFixture.CHAT;
import static dev.llmgw.core.exchange.ExchangeFixture.CHAT_STREAM;
import static dev.llmgw.core.exchange.ExchangeFixture.head;
import static dev.llmgw.core.exchange.ExchangeFixture.retries;
import static dev.llmgw.core.exchange.ExchangeFixture.sseEvent;
import static dev.llmgw.core.exchange.ExchangeFixture.upstreamBody;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.config.Failover;
import dev.llmgw.core.log.Outcome;
import dev.llmgw.core.log.RequestLog;
import dev.llmgw.core.resilience.BackendGuard;
import dev.llmgw.core.route.RoutePlan;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code failover.lastResort} in {@link ProxyExchange}: when every candidate failed before the first
 * byte, the alias of last resort gets one attempt, marked as a fallback. The fixture's plan for
 * {@code big} has one candidate (remote); {@code local} is the last resort.
 */
class LastResortTest {
  private ExchangeFixture fx;

  private ExchangeFixture fixture(Failover failover) {
    fx = new ExchangeFixture(retries(1), failover);
    return fx;
  }

  private static Failover withLastResort() {
    return Failover.defaults().withLastResort("local");
  }

  @AfterEach
  void close() {
    if (fx != null) {
      fx.close();
    }
  }

  @Test
  void thePlanCarriesTheLastResortUnlessItIsACandidateAlready() {
    fixture(withLastResort());
    assertThat(fx.plan("big").candidates()).extracting(r -> r.alias().alias()).containsExactly("big");
    assertThat(fx.plan("big").lastResort().alias().alias()).isEqualTo("local");
    assertThat(fx.plan("smart").lastResort()).as("smart falls back to local already").isNull();
    assertThat(fx.plan("local").lastResort()).isNull();
  }

  @Test
  void whenEveryCandidateFailedTheLastResortAnswers() {
    fixture(withLastResort());
    RoutePlan plan = fx.plan("big");
    fx.exchange(plan, CHAT).start();

    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).contains("\"model\":\"big-model\"");
    fx.answerError(remote, 503, "overloaded");
    assertThat(fx.received()).as("nothing before the fallback boundary").isEmpty();

    EmbeddedChannel local = fx.connections.pool("local").last();
    assertThat(upstreamBody(local)).contains("\"model\":\"local-model\"");
    fx.answerJson(local, "local");

    assertThat(fx.received()).hasSize(3).startsWith("HEAD 200").endsWith("END");
    assertThat(fx.received.get(1)).contains("hello from local");
    assertThat(fx.header("x-gateway-backend")).isEqualTo("local");
    assertThat(fx.header("x-gateway-fallback")).isEqualTo("remote=overloaded, last-resort=local");
    assertThat(fx.header("x-gateway-attempts")).isEqualTo("2");
    assertThat(fx.events).containsExactly("start remote", "failed remote overloaded",
        "fallback remote->local overloaded", "last resort remote->local overloaded", "start local");
    RequestLog log = fx.log();
    assertThat(log.outcome()).isEqualTo(Outcome.SERVED);
    assertThat(log.backend()).isEqualTo("local");
    assertThat(log.fallbacks()).isEqualTo(1);
    assertThat(fx.done).isEqualTo(1);
    fx.assertGuardsIdle();
    fx.assertAllReleased();
  }

  @Test
  void aStreamGoesToTheLastResortToo() {
    fixture(withLastResort());
    fx.exchange(fx.plan("big"), CHAT_STREAM.replace("\"smart\"", "\"big\"")).start();

    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).contains("\"model\":\"big-model\"");
    fx.answerError(remote, 429, "slow down", "Retry-After", "30");
    EmbeddedChannel local = fx.connections.pool("local").last();
    assertThat(upstreamBody(local)).contains("\"stream\":true");
    local.writeInbound(head(200, "text/event-stream"), fx.chunk(sseEvent("Once")),
        fx.last("data: [DONE]\n\n"));

    assertThat(fx.received()).startsWith("HEAD 200", "DATA " + sseEvent("Once")).endsWith("END");
    assertThat(fx.header("x-gateway-fallback")).isEqualTo("remote=rate_limited, last-resort=local");
    assertThat(fx.log().outcome()).isEqualTo(Outcome.SERVED);
    fx.assertGuardsIdle();
    fx.assertAllReleased();
  }

  @Test
  void theLastResortIsTriedOnceWithoutRetriesAndItsFailureIsTheAnswer() {
    fixture(withLastResort());
    fx.exchange(fx.plan("big"), CHAT).start();

    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).isNotNull();
    fx.answerError(remote, 500, "remote exploded");
    EmbeddedChannel local = fx.connections.pool("local").last();
    assertThat(upstreamBody(local)).isNotNull();
    fx.answerError(local, 500, "local exploded too"); // retryable, but not on the last resort
    fx.advance(Duration.ofSeconds(5));

    assertThat(fx.connections.pool("local").acquires()).isEqualTo(1);
    assertThat(fx.received()).hasSize(3).startsWith("HEAD 502");
    assertThat(fx.received.get(1)).contains("local exploded too");
    assertThat(fx.header("x-gateway-fallback")).isEqualTo("remote=overloaded, last-resort=local, local=overloaded");
    assertThat(fx.log().outcome()).isEqualTo(Outcome.FAILED);
    fx.assertGuardsIdle();
    fx.assertAllReleased();
  }

  @Test
  void aCallerFaultNeverReachesTheLastResort() {
    fixture(withLastResort());
    fx.exchange(fx.plan("big"), CHAT).start();

    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).isNotNull();
    fx.answerError(remote, 400, "temperature must be at most 2");

    assertThat(fx.connections.pool("local").acquires()).isZero();
    assertThat(fx.received()).startsWith("HEAD 400");
    assertThat(fx.log().outcome()).isEqualTo(Outcome.FAILED);
    fx.assertGuardsIdle();
    fx.assertAllReleased();
  }

  @Test
  void theLastResortAnswersEvenWhenTheAttemptBudgetIsSpent() {
    fixture(new Failover(Duration.ofSeconds(30), 1, Duration.ofSeconds(5), "huge"));
    fx.exchange(fx.plan("smart"), CHAT).start(); // remote, then local as a fallback: but one attempt only

    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).isNotNull();
    fx.answerError(remote, 500, "remote exploded");
    EmbeddedChannel local = fx.connections.pool("local").last();
    assertThat(local).as("smart's own fallback is beyond the budget; the last resort is not").isNotNull();
    assertThat(upstreamBody(local)).as("the last resort, not the fallback").contains("\"model\":\"huge-model\"");
    fx.answerJson(local, "local");

    assertThat(fx.received()).startsWith("HEAD 200");
    assertThat(fx.header("x-gateway-attempts")).isEqualTo("2");
    assertThat(fx.header("x-gateway-fallback")).isEqualTo("remote=overloaded, last-resort=huge");
    assertThat(fx.log().outcome()).isEqualTo(Outcome.SERVED);
    fx.assertAllReleased();
  }

  @Test
  void withoutALastResortEveryFailedCandidateIsTheEnd() {
    fixture(Failover.defaults());
    assertThat(fx.plan("big").lastResort()).isNull();
    fx.exchange(fx.plan("big"), CHAT).start();

    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).isNotNull();
    fx.answerError(remote, 503, "overloaded");

    assertThat(fx.connections.pool("local").acquires()).isZero();
    assertThat(fx.received()).startsWith("HEAD 502");
    fx.assertAllReleased();
  }
}
