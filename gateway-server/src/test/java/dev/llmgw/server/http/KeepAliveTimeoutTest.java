package dev.llmgw.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The idle timeout of client connections, on the channel's own (frozen) clock. */
class KeepAliveTimeoutTest {
  static final long TIMEOUT_MS = 1_000;

  EmbeddedChannel ch;
  KeepAliveTimeout timeout;
  boolean busy;

  @BeforeEach
  void setUp() {
    ch = new EmbeddedChannel();
    ch.freezeTime();
    ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
      @Override
      public void handlerAdded(ChannelHandlerContext ctx) {
        timeout = new KeepAliveTimeout(ctx, TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS), () -> busy);
      }
    });
  }

  @AfterEach
  void tearDown() {
    ch.finishAndReleaseAll();
  }

  private void advance(long ms) {
    ch.advanceTimeBy(ms, TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
  }

  @Test
  void aConnectionThatNeverSendsARequestIsClosedAfterTheTimeout() {
    advance(TIMEOUT_MS - 1);
    assertThat(ch.isOpen()).isTrue();
    advance(1);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void theIdlePeriodStartsAgainWithEachRequestAndAnswer() {
    advance(600);
    timeout.active(); // a request came (and was answered at once)
    advance(TIMEOUT_MS - 1); // the first wake-up (at 1,000) found 600 ms of idleness and looked again
    assertThat(ch.isOpen()).isTrue();
    advance(1);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void aConnectionServingALongAnswerIsNotIdleAndIsTimedFromTheAnswersEnd() {
    busy = true; // e.g. a stream that lasts ten timeout periods, with the client sending nothing
    advance(10 * TIMEOUT_MS);
    assertThat(ch.isOpen()).isTrue();
    busy = false;
    timeout.active(); // the answer ended
    advance(TIMEOUT_MS - 1);
    assertThat(ch.isOpen()).isTrue();
    advance(TIMEOUT_MS);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void aClosedConnectionLeavesNoTimerBehind() {
    timeout.close();
    ch.close();
    assertThat(ch.hasPendingTasks()).isFalse();
  }
}
