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
import dev.llmgw.core.upstream.FakeConnections;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ProxyExchange} on {@code EmbeddedChannel}s: a client channel, fake backend connections, real
 * guards, the loop's clock frozen and advanced by hand — no sockets, no sleeps. Each case checks what
 * the client got, how the request's log ended (once), and that every buffer was released.
 */
class ProxyExchangeTest {
  private ExchangeFixture fx;

  private ExchangeFixture fixture(int remoteRetries) {
    fx = new ExchangeFixture(retries(remoteRetries), Failover.defaults());
    return fx;
  }

  @AfterEach
  void close() {
    if (fx != null) {
      fx.close();
    }
  }

  @Test
  void aFailureBeforeTheFirstByteFallsBackToTheNextCandidate() {
    ExchangeFixture fx = fixture(1);
    RoutePlan plan = fx.plan("smart");
    assertThat(plan.candidates()).extracting(r -> r.backend().name()).containsExactly("remote", "local");
    ProxyExchange exchange = fx.exchange(plan, CHAT);
    exchange.start();

    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).contains("\"model\":\"remote-model\"");
    fx.answerError(remote, 500, "upstream exploded");
    assertThat(fx.received()).as("nothing reaches the client before the fallback boundary").isEmpty();

    EmbeddedChannel local = fx.connections.pool("local").last();
    assertThat(local).as("the fallback starts at once").isNotNull();
    assertThat(upstreamBody(local)).contains("\"model\":\"local-model\"");
    fx.answerJson(local, "local");

    assertThat(fx.received()).hasSize(3).startsWith("HEAD 200").endsWith("END");
    assertThat(fx.received.get(1)).contains("hello from local").doesNotContain("exploded");
    assertThat(fx.header("x-gateway-backend")).isEqualTo("local");
    assertThat(fx.header("x-gateway-fallback")).isEqualTo("remote=overloaded");
    assertThat(fx.header("x-gateway-attempts")).isEqualTo("2");
    assertThat(fx.events).containsExactly("start remote", "failed remote overloaded",
        "fallback remote->local overloaded", "start local");

    RequestLog log = fx.log();
    assertThat(log.outcome()).isEqualTo(Outcome.SERVED);
    assertThat(log.status()).isEqualTo(200);
    assertThat(log.attempts()).isEqualTo(2);
    assertThat(log.retries()).isZero();
    assertThat(log.fallbacks()).isEqualTo(1);
    assertThat(log.backend()).isEqualTo("local");
    assertThat(log.promptTokens()).isEqualTo(11); // the backend's own usage
    assertThat(log.usageEstimated()).isFalse();
    assertThat(fx.done).isEqualTo(1);
    assertThat(exchange.isDone()).isTrue();

    // both connections answered completely with keep-alive: back in their pools, open
    assertThat(remote.isOpen()).isTrue();
    assertThat(local.isOpen()).isTrue();
    assertThat(fx.connections.pool("remote").balanced()).isTrue();
    assertThat(fx.connections.pool("local").balanced()).isTrue();
    fx.assertGuardsIdle();
    fx.assertAllReleased();
  }

  @Test
  void aStreamCutAfterTheFirstByteEndsWithAnSseErrorEventAndNoFallback() {
    ExchangeFixture fx = fixture(2);
    ProxyExchange exchange = fx.exchange(fx.plan("smart"), CHAT_STREAM);
    exchange.start();

    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).contains("\"include_usage\":true"); // the gateway asks for usage
    remote.writeInbound(head(200, "text/event-stream"), fx.chunk(sseEvent("Hel")));
    assertThat(fx.received()).containsExactly("HEAD 200", "DATA " + sseEvent("Hel"));
    assertThat(fx.header(HttpHeaderNames.TRANSFER_ENCODING)).isEqualTo("chunked");

    remote.close(); // the backend drops the connection mid-stream

    assertThat(fx.received()).hasSize(4);
    assertThat(fx.received.get(2)).startsWith("DATA data: {\"error\":").contains("connection closed before the response ended")
        .endsWith("}\n\n");
    assertThat(fx.received.get(3)).isEqualTo("END");
    assertThat(fx.client.isOpen()).as("the chunked body ended properly: the connection stays usable").isTrue();
    assertThat(fx.connections.pool("local").acquires()).as("no fallback after the first byte").isZero();
    assertThat(fx.events).containsExactly("start remote", "failed remote malformed_response committed");

    RequestLog log = fx.log();
    assertThat(log.outcome()).isEqualTo(Outcome.STREAM_CUT);
    assertThat(log.status()).isEqualTo(200);
    assertThat(log.attempts()).isEqualTo(1);
    assertThat(log.retries()).isZero();
    assertThat(log.fallbacks()).isZero();
    assertThat(log.errorCode()).isEqualTo("backend_error");
    assertThat(log.usageEstimated()).isTrue(); // no usage came: estimated over what was relayed
    assertThat(log.completionTokens()).isPositive();
    assertThat(fx.done).isEqualTo(1);
    assertThat(fx.connections.pool("remote").balanced()).isTrue();
    fx.assertGuardsIdle();
    fx.assertAllReleased();
  }

  @Test
  void aRetryAfterIsWaitedOutOnTheLoopsClockThenTheSameBackendIsTriedAgain() {
    ExchangeFixture fx = fixture(2);
    ProxyExchange exchange = fx.exchange(fx.plan("smart"), CHAT);
    exchange.start();
    FakeConnections.Pool remotePool = fx.connections.pool("remote");

    EmbeddedChannel first = remotePool.last();
    assertThat(upstreamBody(first)).isNotNull();
    fx.answerError(first, 429, "slow down", "Retry-After", "2");
    assertThat(fx.events).containsExactly("start remote", "failed remote rate_limited", "retry remote rate_limited");

    fx.advance(Duration.ofMillis(1900));
    assertThat(remotePool.acquires()).as("no second request before Retry-After has passed").isEqualTo(1);
    assertThat(fx.connections.pool("local").acquires()).isZero();
    assertThat(fx.received()).isEmpty();
    assertThat(fx.ended).isEmpty();

    fx.advance(Duration.ofMillis(100));
    assertThat(remotePool.acquires()).as("the retry, at +2 s").isEqualTo(2);
    EmbeddedChannel second = remotePool.last();
    assertThat(second).as("the keep-alive connection of the 429, reused").isSameAs(first);
    assertThat(upstreamBody(second)).contains("\"model\":\"remote-model\"");
    fx.answerJson(second, "remote");

    assertThat(fx.received()).hasSize(3).startsWith("HEAD 200").endsWith("END");
    assertThat(fx.received.get(1)).contains("hello from remote");
    assertThat(fx.header("x-gateway-backend")).isEqualTo("remote");
    assertThat(fx.header("x-gateway-fallback")).as("a retry is not a fallback").isNull();
    assertThat(fx.header("x-gateway-attempts")).isEqualTo("2");

    RequestLog log = fx.log();
    assertThat(log.outcome()).isEqualTo(Outcome.SERVED);
    assertThat(log.attempts()).isEqualTo(2);
    assertThat(log.retries()).isEqualTo(1);
    assertThat(log.fallbacks()).isZero();
    assertThat(fx.done).isEqualTo(1);
    assertThat(remotePool.balanced()).isTrue();
    fx.assertGuardsIdle();
    fx.assertAllReleased();
  }

  @Test
  void aRetryAfterLongerThanTheCapMovesOnAtOnce() {
    ExchangeFixture fx = fixture(2);
    assertThat(fx.config.failover().maxRetryAfter()).isLessThan(Duration.ofSeconds(30));
    ProxyExchange exchange = fx.exchange(fx.plan("smart"), CHAT);
    exchange.start();

    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).isNotNull();
    fx.answerError(remote, 429, "come back later", "Retry-After", "30");

    // no time passes: the next candidate is asked at once
    EmbeddedChannel local = fx.connections.pool("local").last();
    assertThat(local).isNotNull();
    assertThat(upstreamBody(local)).isNotNull();
    fx.answerJson(local, "local");

    assertThat(fx.received()).startsWith("HEAD 200").endsWith("END");
    assertThat(fx.header("x-gateway-fallback")).isEqualTo("remote=rate_limited");
    assertThat(fx.connections.pool("remote").acquires()).isEqualTo(1);
    RequestLog log = fx.log();
    assertThat(log.outcome()).isEqualTo(Outcome.SERVED);
    assertThat(log.attempts()).isEqualTo(2);
    assertThat(log.retries()).isZero();
    assertThat(log.fallbacks()).isEqualTo(1);
    assertThat(fx.done).isEqualTo(1);
    fx.assertGuardsIdle();
    fx.assertAllReleased();
  }

  @Test
  void cancellingMidStreamClosesTheBackendAndEndsTheRequestOnceAsClientGone() {
    ExchangeFixture fx = fixture(2);
    ProxyExchange exchange = fx.exchange(fx.plan("smart"), CHAT_STREAM);
    exchange.start();

    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).isNotNull();
    remote.writeInbound(head(200, "text/event-stream"), fx.chunk(sseEvent("Hello, ")), fx.chunk(sseEvent("test")));
    assertThat(fx.received()).containsExactly("HEAD 200", "DATA " + sseEvent("Hello, "), "DATA " + sseEvent("test"));

    exchange.cancel(); // the client hung up

    assertThat(remote.isOpen()).as("the half-read connection is closed, not reused").isFalse();
    assertThat(fx.connections.pool("remote").released()).containsExactly(remote);
    assertThat(fx.received()).as("nothing more is written to a client that left").hasSize(3);
    RequestLog log = fx.log();
    assertThat(log.outcome()).isEqualTo(Outcome.CLIENT_GONE);
    assertThat(log.status()).as("the head had gone out").isEqualTo(200);
    assertThat(log.attempts()).isEqualTo(1);
    assertThat(log.usageEstimated()).isTrue();
    assertThat(log.promptTokens()).isPositive();
    assertThat(log.completionTokens()).as("charged for what was relayed").isPositive();
    assertThat(fx.done).isEqualTo(1);

    exchange.cancel(); // again (the close is reported twice): nothing more happens
    assertThat(fx.ended).hasSize(1);
    assertThat(fx.done).isEqualTo(1);
    assertThat(fx.connections.pool("remote").released()).hasSize(1);
    fx.assertGuardsIdle();
    fx.assertAllReleased();
  }

  @Test
  void cancellingDuringARetryWaitEndsTheRequestAndTheRetryNeverStarts() {
    ExchangeFixture fx = fixture(2);
    ProxyExchange exchange = fx.exchange(fx.plan("smart"), CHAT);
    exchange.start();
    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).isNotNull();
    fx.answerError(remote, 429, "slow down", "Retry-After", "1");

    exchange.cancel();
    RequestLog log = fx.log();
    assertThat(log.outcome()).isEqualTo(Outcome.CLIENT_GONE);
    assertThat(log.status()).isEqualTo(499);
    assertThat(log.retries()).isEqualTo(1);

    fx.advance(Duration.ofSeconds(5));
    assertThat(fx.connections.pool("remote").acquires()).isEqualTo(1);
    assertThat(fx.ended).hasSize(1);
    assertThat(fx.done).isEqualTo(1);
    assertThat(fx.received()).isEmpty();
    fx.assertGuardsIdle();
    fx.assertAllReleased();
  }

  @Test
  void anUnwritableClientPausesTheBackendUntilItCanTakeMore() {
    ExchangeFixture fx = fixture(2);
    fx.client.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
    ProxyExchange exchange = fx.exchange(fx.plan("smart"), CHAT_STREAM);
    exchange.start();
    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).isNotNull();

    fx.valve.shut(); // the client's socket stops taking bytes
    remote.writeInbound(head(200, "text/event-stream"), fx.chunk(sseEvent("one")));
    assertThat(fx.client.isWritable()).isFalse();
    assertThat(remote.config().isAutoRead()).as("paused after the chunk").isFalse();

    exchange.onClientWritable(); // a stray call while still unwritable changes nothing
    assertThat(remote.config().isAutoRead()).isFalse();

    // paused is the client's doing: the backend's idle timeout (4 s) does not run meanwhile
    fx.advance(Duration.ofSeconds(10));
    assertThat(fx.ended).isEmpty();
    assertThat(remote.isOpen()).isTrue();

    fx.valve.open(); // the client drains
    assertThat(fx.client.isWritable()).isTrue();
    exchange.onClientWritable();
    assertThat(remote.config().isAutoRead()).as("resumed").isTrue();
    assertThat(fx.received()).containsExactly("HEAD 200", "DATA " + sseEvent("one"));

    remote.writeInbound(fx.chunk(sseEvent("two")), fx.last("data: [DONE]\n\n"));
    assertThat(fx.received()).containsExactly("HEAD 200", "DATA " + sseEvent("one"), "DATA " + sseEvent("two"),
        "DATA data: [DONE]\n\n", "END");
    RequestLog log = fx.log();
    assertThat(log.outcome()).isEqualTo(Outcome.SERVED);
    assertThat(fx.done).isEqualTo(1);
    assertThat(remote.isOpen()).isTrue();
    assertThat(fx.connections.pool("remote").balanced()).isTrue();
    fx.assertGuardsIdle();
    fx.assertAllReleased();
  }

  @Test
  void aTwoHundredWhoseBodyIsNotJsonIsAFailureBeforeTheFirstByte() {
    ExchangeFixture fx = fixture(1);
    ProxyExchange exchange = fx.exchange(fx.plan("smart"), CHAT);
    exchange.start();
    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).isNotNull();
    remote.writeInbound(head(200, "application/json"), fx.chunk("<html>502 Bad Gateway</html>"));

    assertThat(remote.isOpen()).as("the rest of that body is not read: the connection is closed").isFalse();
    EmbeddedChannel local = fx.connections.pool("local").last();
    assertThat(upstreamBody(local)).isNotNull();
    fx.answerJson(local, "local");

    assertThat(fx.received()).hasSize(3).startsWith("HEAD 200").endsWith("END");
    assertThat(fx.received.get(1)).contains("hello from local").doesNotContain("html");
    assertThat(fx.header("x-gateway-fallback")).isEqualTo("remote=malformed_response");
    RequestLog log = fx.log();
    assertThat(log.outcome()).isEqualTo(Outcome.SERVED);
    assertThat(log.fallbacks()).isEqualTo(1);
    assertThat(fx.done).isEqualTo(1);
    assertThat(fx.connections.pool("remote").balanced()).isTrue();
    fx.assertGuardsIdle();
    fx.assertAllReleased();
  }

  @Test
  void everyCandidateFailingAnswersOneErrorWithTheTrailAndTheProvidersRetryAfter() {
    ExchangeFixture fx = fixture(1);
    ProxyExchange exchange = fx.exchange(fx.plan("smart"), CHAT);
    exchange.start();
    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).isNotNull();
    fx.answerError(remote, 503, "down for maintenance");
    EmbeddedChannel local = fx.connections.pool("local").last();
    assertThat(upstreamBody(local)).isNotNull();
    fx.answerError(local, 429, "busy", "Retry-After", "30"); // over the cap: not waited out, passed on

    assertThat(fx.received()).hasSize(3).startsWith("HEAD 429").endsWith("END");
    assertThat(fx.received.get(1)).contains("\"code\":\"rate_limit_exceeded\"").doesNotContain("busy");
    assertThat(fx.header("retry-after")).isEqualTo("30");
    assertThat(fx.header("x-gateway-fallback")).isEqualTo("remote=overloaded, local=rate_limited");
    assertThat(fx.header("x-gateway-attempts")).isEqualTo("2");
    RequestLog log = fx.log();
    assertThat(log.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(log.status()).isEqualTo(429);
    assertThat(log.attempts()).isEqualTo(2);
    assertThat(log.fallbacks()).isEqualTo(1);
    assertThat(log.errorCode()).isEqualTo("rate_limit_exceeded");
    assertThat(fx.done).isEqualTo(1);
    fx.assertGuardsIdle();
    fx.assertAllReleased();
  }

  /** Remote's idle timeout (4 s) is shorter than its first-byte timeout (5 s), as with the defaults (30 s, 60 s). */
  @Test
  void aStreamGoingQuietRightAfterItsFirstChunkIsTimedOutAtTheIdleTimeout() {
    ExchangeFixture fx = fixture(2);
    ProxyExchange exchange = fx.exchange(fx.plan("smart"), CHAT_STREAM);
    exchange.start();
    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).isNotNull();
    remote.writeInbound(head(200, "text/event-stream"), fx.chunk(sseEvent("one")));

    fx.advance(Duration.ofMillis(3900));
    assertThat(fx.ended).isEmpty();
    fx.advance(Duration.ofMillis(200)); // idle timeout 4 s; the first-byte deadline (5 s) is not what counts here
    assertThat(fx.received()).hasSize(4).endsWith("END");
    assertThat(fx.received.get(2)).contains("\"error\"").contains("idle");
    RequestLog log = fx.log();
    assertThat(log.outcome()).isEqualTo(Outcome.STREAM_CUT);
    assertThat(remote.isOpen()).isFalse();
    assertThat(fx.connections.pool("local").acquires()).isZero();
    fx.assertGuardsIdle();
    fx.assertAllReleased();
  }

  @Test
  void aJsonBodyCutAfterTheFirstByteClosesTheClientConnection() {
    ExchangeFixture fx = fixture(2);
    ProxyExchange exchange = fx.exchange(fx.plan("smart"), CHAT);
    exchange.start();
    EmbeddedChannel remote = fx.connections.pool("remote").last();
    assertThat(upstreamBody(remote)).isNotNull();
    remote.writeInbound(head(200, "application/json"), fx.chunk("{\"id\":\"c1\",\"choices\":[{\"message\":"));
    assertThat(fx.received()).hasSize(2).startsWith("HEAD 200");

    remote.close();

    assertThat(fx.received()).as("no clean end for half an answer").hasSize(2).doesNotContain("END");
    assertThat(fx.client.isOpen()).as("a truncated body: the client sees the connection close").isFalse();
    assertThat(fx.connections.pool("local").acquires()).isZero();
    RequestLog log = fx.log();
    assertThat(log.outcome()).isEqualTo(Outcome.STREAM_CUT);
    assertThat(log.fallbacks()).isZero();
    assertThat(fx.done).isEqualTo(1);
    fx.assertGuardsIdle();
    fx.assertAllReleased();
  }
}
