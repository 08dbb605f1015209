package dev.llmgw.core.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link LoopChannelPool} over in-VM connections to a server that keeps every connection open. */
class LoopChannelPoolTest {

  private static final AtomicInteger SEQ = new AtomicInteger();

  private EventLoopGroup group;
  private EventLoop loop;
  private LocalAddress address;
  private Channel server;
  /** The server's side of every connection, in the order accepted. */
  private final List<Channel> accepted = new CopyOnWriteArrayList<>();
  private final AtomicInteger created = new AtomicInteger();

  @BeforeEach
  void setUp() throws Exception {
    group = new MultiThreadIoEventLoopGroup(1, Transport.nio().ioHandlerFactory());
    loop = group.next();
    address = new LocalAddress("loop-pool-test-" + SEQ.incrementAndGet());
    server = new ServerBootstrap().group(group).channel(LocalServerChannel.class)
        .childHandler(new ChannelInboundHandlerAdapter() {
          @Override
          public boolean isSharable() { // one instance on every accepted connection
            return true;
          }

          @Override
          public void channelActive(ChannelHandlerContext ctx) {
            accepted.add(ctx.channel());
          }

          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
          }
        }).bind(address).sync().channel();
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close().sync();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  private LoopChannelPool pool(int max, int pending, long timeoutMillis) {
    return pool(address, max, pending, timeoutMillis);
  }

  private LoopChannelPool pool(LocalAddress to, int max, int pending, long timeoutMillis) {
    Bootstrap b = new Bootstrap().group(loop).channel(LocalChannel.class).remoteAddress(to);
    return new LoopChannelPool(loop, b, ch -> created.incrementAndGet(), max, pending, timeoutMillis);
  }

  /** Runs on the pool's loop, as the gateway does. */
  private <T> T onLoop(Callable<T> task) throws Exception {
    return loop.submit(task).get(5, TimeUnit.SECONDS);
  }

  private static Channel got(Future<Channel> f) throws Exception {
    return f.get(5, TimeUnit.SECONDS);
  }

  @Test
  void aReleasedConnectionIsHandedOutAgainTheLastReleasedFirst() throws Exception {
    LoopChannelPool p = pool(4, 10, 1000);
    Channel a = got(onLoop(p::acquire));
    Channel b = got(onLoop(p::acquire));
    assertThat(a).isNotSameAs(b);
    assertThat(created).hasValue(2);
    assertThat(onLoop(p::busy)).isEqualTo(2);

    assertThat(onLoop(() -> p.release(a)).isSuccess()).isTrue();
    assertThat(onLoop(() -> p.release(b)).isSuccess()).isTrue();
    assertThat(onLoop(p::idle)).isEqualTo(2);
    assertThat(got(onLoop(p::acquire))).as("last released, first out").isSameAs(b);
    assertThat(got(onLoop(p::acquire))).isSameAs(a);
    assertThat(created).as("no new connection while idle ones remain").hasValue(2);
  }

  @Test
  void anAcquireBeyondTheBoundWaitsForARelease() throws Exception {
    LoopChannelPool p = pool(1, 10, 5000);
    Channel a = got(onLoop(p::acquire));
    Future<Channel> waiting = onLoop(p::acquire);
    assertThat(waiting.isDone()).isFalse();
    onLoop(() -> p.release(a));
    assertThat(got(waiting)).isSameAs(a);
    assertThat(created).hasValue(1);
    assertThat(accepted).hasSize(1);
  }

  @Test
  void aWaitLongerThanTheAcquireTimeoutFailsWithATimeout() throws Exception {
    LoopChannelPool p = pool(1, 10, 50);
    got(onLoop(p::acquire));
    Future<Channel> waiting = onLoop(p::acquire);
    await().atMost(Duration.ofSeconds(5)).until(waiting::isDone);
    assertThat(waiting.cause()).isInstanceOf(TimeoutException.class);
  }

  @Test
  void tooManyWaitingAcquiresAreRefused() throws Exception {
    LoopChannelPool p = pool(1, 1, 5000);
    got(onLoop(p::acquire));
    Future<Channel> first = onLoop(p::acquire);
    Future<Channel> second = onLoop(p::acquire);
    assertThat(first.isDone()).isFalse();
    assertThat(second.isDone()).isTrue();
    assertThat(second.cause()).isInstanceOf(IllegalStateException.class).hasMessageContaining("waiting");
  }

  @Test
  void aConnectionReleasedClosedIsDroppedAndItsPlaceFreed() throws Exception {
    LoopChannelPool p = pool(1, 10, 5000);
    Channel a = got(onLoop(p::acquire));
    Future<Channel> waiting = onLoop(p::acquire);
    onLoop(() -> {
      a.close();
      return p.release(a);
    });
    Channel b = got(waiting);
    assertThat(b).isNotSameAs(a);
    assertThat(b.isActive()).isTrue();
    assertThat(onLoop(p::idle)).isZero();
  }

  @Test
  void anIdleConnectionTheServerClosesLeavesThePool() throws Exception {
    LoopChannelPool p = pool(2, 10, 1000);
    Channel a = got(onLoop(p::acquire));
    onLoop(() -> p.release(a));
    assertThat(onLoop(p::idle)).isEqualTo(1);
    accepted.get(0).close().sync();
    await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(p::idle) == 0);
    Channel b = got(onLoop(p::acquire));
    assertThat(b).isNotSameAs(a);
    assertThat(b.isActive()).isTrue();
  }

  @Test
  void aSecondReleaseIsRefusedAndCountsOnce() throws Exception {
    LoopChannelPool p = pool(2, 10, 1000);
    Channel a = got(onLoop(p::acquire));
    assertThat(onLoop(() -> p.release(a)).isSuccess()).isTrue();
    Future<Void> again = onLoop(() -> p.release(a));
    assertThat(again.isSuccess()).isFalse();
    assertThat(again.cause()).isInstanceOf(IllegalArgumentException.class);
    assertThat(onLoop(p::busy)).isZero();
    assertThat(onLoop(p::idle)).isEqualTo(1);
  }

  @Test
  void aFailedConnectFailsTheAcquireAndFreesItsPlace() throws Exception {
    LoopChannelPool p = pool(new LocalAddress("nobody-listens-here-" + SEQ.incrementAndGet()), 1, 10, 1000);
    Future<Channel> f = onLoop(p::acquire);
    await().atMost(Duration.ofSeconds(5)).until(f::isDone);
    assertThat(f.isSuccess()).isFalse();
    assertThat(onLoop(p::busy)).isZero();
    Future<Channel> again = onLoop(p::acquire);
    await().atMost(Duration.ofSeconds(5)).until(again::isDone);
    assertThat(again.isSuccess()).as("not refused as over the bound: tried again").isFalse();
    assertThat(again.cause()).isNotInstanceOf(TimeoutException.class);
  }

  @Test
  void closingClosesIdleConnectionsNowBusyOnesWhenReleasedAndFailsWaiters() throws Exception {
    LoopChannelPool p = pool(2, 10, 5000);
    Channel busy = got(onLoop(p::acquire));
    Channel idle = got(onLoop(p::acquire));
    onLoop(() -> p.release(idle));
    Channel busy2 = got(onLoop(p::acquire));
    assertThat(busy2).isSameAs(idle);
    onLoop(() -> p.release(busy2));
    Channel third = got(onLoop(p::acquire)); // the idle one again
    Future<Channel> waitsFor = onLoop(p::acquire); // over the bound of 2: waits
    assertThat(waitsFor.isDone()).isFalse();

    p.closeAsync().get(5, TimeUnit.SECONDS);
    assertThat(waitsFor.cause()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    assertThat(busy.isActive()).as("busy: open until released").isTrue();
    onLoop(() -> p.release(busy));
    onLoop(() -> p.release(third));
    await().atMost(Duration.ofSeconds(5)).until(() -> !busy.isActive() && !third.isActive());
    Future<Channel> after = onLoop(p::acquire);
    assertThat(after.cause()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
  }

  @Test
  void callsFromAnotherThreadRunOnTheLoop() throws Exception {
    LoopChannelPool p = pool(1, 10, 1000);
    Channel a = p.acquire().get(5, TimeUnit.SECONDS);
    assertThat(p.release(a).await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(onLoop(p::idle)).isEqualTo(1);
    assertThat(p.acquire().get(5, TimeUnit.SECONDS)).isSameAs(a);
    p.close(); // waits for the loop
    assertThat(onLoop(p::idle)).isZero();
  }
}
