package dev.llmgw.core.exchange;

import static dev.llmgw.core.exchange.ExchangeFixture.CHAT;
import static dev.llmgw.core.exchange.ExchangeFixture.REMOTE_TIMEOUTS;
import static dev.llmgw.core.exchange.ExchangeFixture.head;
import static dev.llmgw.core.exchange.ExchangeFixture.upstreamBody;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.config.Failover;
import dev.llmgw.core.config.Resilience;
import dev.llmgw.core.config.Timeouts;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.resilience.FailureClass;
import dev.llmgw.core.resilience.FailureClassifier.Failure;
import dev.llmgw.core.upstream.FakeConnections;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One {@link BackendAttempt} on its own, on fake backend connections and the client loop's frozen
 * clock: deadlines fire when the clock passes them and not before, a stale pooled connection is
 * replaced once without a new attempt, an error answer is read to its end and classified.
 */
class BackendAttemptTest {
  private final ExchangeFixture fx = new ExchangeFixture(Resilience.defaults(), Failover.defaults());
  private final Recorder recorder = new Recorder();
  private final FakeConnections.Pool pool = fx.connections.pool("remote");

  @AfterEach
  void close() {
    fx.close();
  }

  /** What the attempt told its listener. */
  static final class Recorder implements BackendAttempt.Listener {
    final List<String> calls = new ArrayList<>();
    final StringBuilder body = new StringBuilder();
    Failure failure;
    Duration retryAfter;

    @Override
    public void onResponseHead(BackendAttempt attempt, HttpResponse head) {
      calls.add("head " + head.status().code());
    }

    @Override
    public void onContent(BackendAttempt attempt, HttpContent content) {
      try {
        body.append(content.content().toString(StandardCharsets.UTF_8));
        calls.add(content instanceof LastHttpContent ? "last" : "content");
      } finally {
        content.release();
      }
    }

    @Override
    public void onReadComplete(BackendAttempt attempt) {
      calls.add("readComplete");
    }

    @Override
    public void onFailure(BackendAttempt attempt, Failure failure, Duration retryAfter) {
      calls.add("failure " + failure.failureClass().tag());
      this.failure = failure;
      this.retryAfter = retryAfter;
    }
  }

  private BackendAttempt attempt() {
    return attempt(REMOTE_TIMEOUTS);
  }

  private BackendAttempt attempt(Timeouts timeouts) {
    ParsedRequest request = fx.parse(CHAT);
    return new BackendAttempt(fx.route("smart"), request, fx.body, "rid-1", fx.connections, fx.client.eventLoop(),
        fx.watchdog, timeouts, 64 * 1024, recorder, dev.llmgw.core.trace.AttemptTrace.NONE);
  }

  /** The attempt borrows the request body; the test owns it. */
  private void releaseBody() {
    fx.body.release();
  }

  @Test
  void theFirstByteTimeoutFiresOnlyOnceTheClockPassesIt() {
    BackendAttempt attempt = attempt();
    attempt.start();
    EmbeddedChannel backend = pool.last();
    assertThat(upstreamBody(backend)).contains("\"model\":\"remote-model\"");

    fx.advance(REMOTE_TIMEOUTS.firstByte().minusMillis(100));
    assertThat(recorder.calls).as("nothing before the first-byte timeout").isEmpty();
    assertThat(backend.isOpen()).isTrue();

    fx.advance(Duration.ofMillis(100));
    assertThat(recorder.calls).containsExactly("failure ttfb_timeout");
    assertThat(recorder.failure.clientError().status()).isEqualTo(504);
    assertThat(recorder.retryAfter).isNull();
    assertThat(attempt.isDone()).isTrue();
    assertThat(backend.isOpen()).as("a connection with a response still owed is not reused").isFalse();
    assertThat(pool.released()).containsExactly(backend);

    fx.advance(Duration.ofMinutes(2)); // the total deadline passes too: nothing more
    assertThat(recorder.calls).hasSize(1);
    releaseBody();
    fx.assertAllReleased();
  }

  @Test
  void aHeadInTimeStopsTheFirstByteTimeoutButTheIdleTimeoutThenRuns() {
    BackendAttempt attempt = attempt();
    attempt.start();
    EmbeddedChannel backend = pool.last();
    assertThat(upstreamBody(backend)).isNotNull();
    fx.advance(Duration.ofSeconds(4));
    backend.writeInbound(head(200, "text/event-stream"), fx.chunk("data: {}\n\n"));
    assertThat(recorder.calls).containsExactly("head 200", "content", "readComplete");

    fx.advance(Duration.ofMillis(3900)); // past the first-byte deadline (5 s), within idle (4 s)
    assertThat(recorder.failure).isNull();
    fx.advance(Duration.ofMillis(100));
    assertThat(recorder.failure.failureClass()).isEqualTo(FailureClass.IDLE_TIMEOUT);
    assertThat(attempt.isDone()).isTrue();
    assertThat(backend.isOpen()).isFalse();
    releaseBody();
    fx.assertAllReleased();
  }

  @Test
  void aStalePooledConnectionIsReplacedOnceByAFreshOneWithinTheSameAttempt() {
    EmbeddedChannel stale = FakeConnections.usedConnection();
    pool.idle(stale);
    BackendAttempt attempt = attempt();
    attempt.start();
    assertThat(pool.last()).isSameAs(stale);
    assertThat(upstreamBody(stale)).isNotNull();

    stale.close(); // the backend had closed it while it idled: nothing received

    assertThat(recorder.calls).as("not a failure, not a new attempt").isEmpty();
    assertThat(pool.acquires()).isEqualTo(2);
    EmbeddedChannel fresh = pool.last();
    assertThat(fresh).isNotSameAs(stale);
    assertThat(pool.released()).containsExactly(stale);
    assertThat(upstreamBody(fresh)).as("the same request, sent again").contains("\"model\":\"remote-model\"");

    fx.answerJson(fresh, "remote");
    // the last chunk ends the attempt: the read-complete after it is not passed on (the relay flushed at the end)
    assertThat(recorder.calls).containsExactly("head 200", "last");
    assertThat(recorder.body.toString()).contains("hello from remote");
    assertThat(attempt.isDone()).isTrue();
    assertThat(fresh.isOpen()).isTrue();
    assertThat(pool.balanced()).isTrue();
    releaseBody();
    fx.assertAllReleased();
  }

  @Test
  void aRequestTheConnectionCannotWriteFailsTheAttempt() {
    // the request goes out with the void promise: a failed write must still reach the attempt
    EmbeddedChannel broken = FakeConnections.newConnection();
    broken.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
      @Override
      public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        ReferenceCountUtil.release(msg);
        promise.setFailure(new IOException("Broken pipe"));
      }
    });
    pool.idle(broken);
    BackendAttempt attempt = attempt();
    attempt.start();

    assertThat(pool.acquired()).containsExactly(broken);
    assertThat(recorder.calls).hasSize(1);
    assertThat(recorder.calls.get(0)).startsWith("failure ");
    assertThat(recorder.failure.clientError().status()).isEqualTo(502);
    assertThat(attempt.isDone()).isTrue();
    assertThat(broken.isOpen()).as("a connection that failed a write is not reused").isFalse();
    assertThat(pool.balanced()).isTrue();
    releaseBody();
    fx.assertAllReleased();
  }

  @Test
  void aFreshConnectionClosedBeforeAnyByteFailsTheAttempt() {
    pool.idle(FakeConnections.usedConnection());
    BackendAttempt attempt = attempt();
    attempt.start();
    EmbeddedChannel stale = pool.last();
    assertThat(upstreamBody(stale)).isNotNull();
    stale.close();
    EmbeddedChannel fresh = pool.last();
    assertThat(upstreamBody(fresh)).isNotNull();

    fresh.close(); // the replacement is no better: that is the backend's failure

    assertThat(recorder.calls).containsExactly("failure connect_failure");
    assertThat(pool.acquires()).as("replaced once, not again").isEqualTo(2);
    assertThat(attempt.isDone()).isTrue();
    assertThat(pool.balanced()).isTrue();
    releaseBody();
    fx.assertAllReleased();
  }

  @Test
  void anErrorAnswerIsReadToItsEndAndClassifiedWithItsRetryAfter() {
    BackendAttempt attempt = attempt();
    attempt.start();
    EmbeddedChannel backend = pool.last();
    assertThat(upstreamBody(backend)).isNotNull();

    backend.writeInbound(head(429, "application/json", "Retry-After", "2"),
        fx.chunk("{\"error\":{\"message\":\"Rate limit reached\","));
    assertThat(recorder.calls).as("nothing until the error body has ended").isEmpty();
    backend.writeInbound(fx.last("\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}"));

    assertThat(recorder.calls).containsExactly("failure rate_limited");
    assertThat(recorder.failure.clientError().status()).isEqualTo(429);
    assertThat(recorder.retryAfter).isEqualTo(Duration.ofSeconds(2));
    assertThat(attempt.isDone()).isTrue();
    assertThat(backend.isOpen()).as("a complete keep-alive answer: the connection is reused").isTrue();
    assertThat(pool.balanced()).isTrue();
    releaseBody();
    fx.assertAllReleased();
  }

  @Test
  void aCallerFaultKeepsTheBackendsMessage() {
    BackendAttempt attempt = attempt();
    attempt.start();
    EmbeddedChannel backend = pool.last();
    assertThat(upstreamBody(backend)).isNotNull();
    backend.writeInbound(head(400, "application/json"), fx.last(
        "{\"error\":{\"message\":\"temperature must be at most 2\",\"type\":\"invalid_request_error\",\"param\":\"temperature\"}}"));

    assertThat(recorder.calls).containsExactly("failure caller_fault");
    assertThat(recorder.failure.clientError().status()).isEqualTo(400);
    assertThat(recorder.failure.clientError().message()).contains("temperature must be at most 2");
    assertThat(recorder.retryAfter).isNull();
    assertThat(attempt.isDone()).isTrue();
    releaseBody();
    fx.assertAllReleased();
  }

  @Test
  void aRefusedConnectionIsAConnectFailure() {
    pool.failAcquires(new ConnectException("Connection refused"));
    BackendAttempt attempt = attempt();
    attempt.start();
    assertThat(recorder.calls).containsExactly("failure connect_failure");
    assertThat(attempt.isDone()).isTrue();
    fx.advance(Duration.ofMinutes(2)); // the watchdog finds nothing left to time out
    assertThat(recorder.calls).hasSize(1);
    releaseBody();
    fx.assertAllReleased();
  }

  @Test
  void cancelledWhileAwaitingTheHeadTheConnectionIsClosedAndNothingIsReported() {
    BackendAttempt attempt = attempt();
    attempt.start();
    EmbeddedChannel backend = pool.last();
    assertThat(upstreamBody(backend)).isNotNull();
    attempt.cancel();
    assertThat(backend.isOpen()).isFalse();
    assertThat(pool.balanced()).isTrue();
    fx.advance(Duration.ofMinutes(2));
    assertThat(recorder.calls).isEmpty();
    releaseBody();
    fx.assertAllReleased();
  }

  /**
   * The idle deadline counts from the last read even when the head came between two looks of the
   * watchdog and long before the first-byte deadline: first byte 10 s, idle 3 s, head at 4 s, then
   * silence → the attempt fails at 7 s, not at 10 s.
   */
  @Test
  void silenceAfterAHeadIsTimedOutAtTheIdleTimeoutWhateverTheFirstByteTimeout() {
    Timeouts t = new Timeouts(Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofSeconds(3),
        Duration.ofSeconds(60));
    BackendAttempt attempt = attempt(t);
    attempt.start();
    EmbeddedChannel backend = pool.last();
    assertThat(upstreamBody(backend)).isNotNull();
    fx.advance(Duration.ofSeconds(4));
    assertThat(recorder.failure).isNull();
    backend.writeInbound(head(200, "text/event-stream"), fx.chunk("data: {}\n\n"));

    fx.advance(Duration.ofMillis(2900)); // 6.9 s
    assertThat(recorder.failure).isNull();
    fx.advance(Duration.ofMillis(100)); // 7 s: 3 s after the last read
    assertThat(recorder.failure).isNotNull();
    assertThat(recorder.failure.failureClass()).isEqualTo(FailureClass.IDLE_TIMEOUT);
    assertThat(backend.isOpen()).isFalse();
    releaseBody();
    fx.assertAllReleased();
  }

  @Test
  void everyStalePooledConnectionIsReplacedUntilAFreshOneIsTried() {
    pool.idle(FakeConnections.usedConnection()).idle(FakeConnections.usedConnection());
    BackendAttempt attempt = attempt();
    attempt.start();
    for (int i = 0; i < 2; i++) { // both idle connections had been closed by the backend
      EmbeddedChannel stale = pool.last();
      assertThat(upstreamBody(stale)).isNotNull();
      stale.close();
    }
    assertThat(recorder.calls).isEmpty();
    assertThat(pool.acquires()).isEqualTo(3);
    EmbeddedChannel fresh = pool.last();
    assertThat(upstreamBody(fresh)).isNotNull();
    fx.answerJson(fresh, "remote");
    assertThat(recorder.calls).containsExactly("head 200", "last");
    assertThat(pool.balanced()).isTrue();
    releaseBody();
    fx.assertAllReleased();
  }
}
