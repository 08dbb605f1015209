package dev.llmgw.core.exchange;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.DefaultEventLoop;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The per-connection lazy timer: early wake-ups look again, later attempts are found, done is done. */
class WatchdogTest {
  final DefaultEventLoop loop = new DefaultEventLoop();
  final Watchdog dog = new Watchdog(loop);

  @AfterEach
  void stop() throws Exception {
    loop.submit(dog::close).get();
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  /** Fails (records a timeout) at its deadline; until then asks to be looked at then. */
  final class Deadline implements Watchdog.Watched {
    final String name;
    final long deadlineNanos;
    final List<String> log;
    int checks;

    Deadline(String name, long inMillis, List<String> log) {
      this.name = name;
      this.deadlineNanos = dog.nanoTime() + TimeUnit.MILLISECONDS.toNanos(inMillis);
      this.log = log;
    }

    @Override
    public long check(long now) {
      checks++;
      if (now >= deadlineNanos) {
        log.add(name + " timed out " + TimeUnit.NANOSECONDS.toMillis(now - deadlineNanos) + " ms late");
        dog.release(this);
        return Watchdog.DONE;
      }
      return deadlineNanos;
    }
  }

  private void inLoop(Runnable r) throws Exception {
    loop.submit(r).get();
  }

  @Test
  void aLaterAttemptIsFoundByTheWakeUpArmedForAnEarlierOne() throws Exception {
    List<String> log = new CopyOnWriteArrayList<>();
    Deadline first = new Deadline("first", 100, log);
    Deadline second = new Deadline("second", 400, log);
    inLoop(() -> dog.watch(first, first.deadlineNanos));
    inLoop(() -> dog.release(first)); // first ends well; its wake-up stays pending
    inLoop(() -> dog.watch(second, second.deadlineNanos)); // no new timer: the pending one is earlier
    await().atMost(Duration.ofSeconds(3)).until(() -> log.size() == 1);
    assertThat(log.get(0)).startsWith("second timed out");
    assertThat(second.checks).as("woken at 100 ms (looks again), then at 400 ms").isEqualTo(2);
    assertThat(first.checks).isZero();
  }

  @Test
  void anEarlierDeadlineThanThePendingWakeUpIsMet() throws Exception {
    List<String> log = new CopyOnWriteArrayList<>();
    Deadline slow = new Deadline("slow", 5_000, log);
    Deadline fast = new Deadline("fast", 100, log);
    inLoop(() -> dog.watch(slow, slow.deadlineNanos));
    inLoop(() -> dog.release(slow));
    long t0 = System.nanoTime(); // wall time of the test itself
    inLoop(() -> dog.watch(fast, fast.deadlineNanos));
    await().atMost(Duration.ofSeconds(2)).until(() -> log.size() == 1);
    assertThat(log.get(0)).startsWith("fast timed out");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(1_500));
  }

  @Test
  void nothingIsCheckedOnceReleasedOrClosed() throws Exception {
    List<String> log = new CopyOnWriteArrayList<>();
    Deadline a = new Deadline("a", 50, log);
    inLoop(() -> dog.watch(a, a.deadlineNanos));
    inLoop(() -> dog.release(a));
    Deadline b = new Deadline("b", 50, log);
    inLoop(() -> dog.watch(b, b.deadlineNanos));
    inLoop(dog::close);
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(1)).until(log::isEmpty);
    assertThat(a.checks + b.checks).isZero();
  }
}
