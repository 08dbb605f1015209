package dev.llmgw.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class EventLoopWatchdogTest {
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  final Logger logger = (Logger) LoggerFactory.getLogger(EventLoopWatchdog.class);
  MultiThreadIoEventLoopGroup loops;
  EventLoopWatchdog watchdog;

  @BeforeEach
  void start() {
    logged.start();
    logger.addAppender(logged);
    loops = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    watchdog = new EventLoopWatchdog(loops, registry, Duration.ofMillis(20), Duration.ofMillis(200));
  }

  @AfterEach
  void stop() {
    watchdog.close();
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    logger.detachAppender(logged);
  }

  double stalls(String loop) {
    return registry.get("gateway.event_loop.stalls").tag("loop", loop).counter().count();
  }

  @Test
  void idleLoopsRunTheirHeartbeatOnTimeAndNeverStall() {
    await().atMost(Duration.ofSeconds(10)).until(() ->
        registry.get("gateway.event_loop.lag").tag("loop", "1").timer().count() >= 25);
    for (String loop : new String[] {"0", "1"}) {
      assertThat(registry.get("gateway.event_loop.lag").tag("loop", loop).timer().max(TimeUnit.MILLISECONDS))
          .as("loop %s", loop).isLessThan(200);
      assertThat(stalls(loop)).isZero();
    }
    assertThat(logged.list).isEmpty();
  }

  @Test
  void aBlockedLoopIsCountedOnceAndItsStackLogged() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    loops.next(); // loop 0
    loops.next().execute(() -> { // loop 1
      try {
        release.await(30, TimeUnit.SECONDS); // a blocking call on an event loop
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    await().atMost(Duration.ofSeconds(10)).until(() -> stalls("1") == 1);
    assertThat(logged.list).hasSize(1);
    String line = logged.list.get(0).getFormattedMessage();
    assertThat(line).contains("event loop 1").contains("CountDownLatch.await")
        .contains(EventLoopWatchdogTest.class.getName());
    assertThat(stalls("0")).as("the other loop is not blocked").isZero();

    release.countDown();
    // once free, the late heartbeat records the stall's length; it is not counted again
    await().atMost(Duration.ofSeconds(10)).until(() ->
        registry.get("gateway.event_loop.lag").tag("loop", "1").timer().max(TimeUnit.MILLISECONDS) >= 200);
    long beats = registry.get("gateway.event_loop.lag").tag("loop", "1").timer().count();
    await().atMost(Duration.ofSeconds(10)).until(() ->
        registry.get("gateway.event_loop.lag").tag("loop", "1").timer().count() >= beats + 10);
    assertThat(stalls("1")).isEqualTo(1);
    assertThat(logged.list).hasSize(1);
  }
}
