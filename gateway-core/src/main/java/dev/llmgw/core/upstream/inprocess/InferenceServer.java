package dev.llmgw.core.upstream.inprocess;

import dev.llmgw.core.config.InProcessSpec;
import dev.llmgw.core.upstream.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One in-process backend: its loaded model, a listening in-VM channel at a {@link LocalAddress} on
 * the gateway's event loops, and its workers — one thread per sequence ({@code maxSequences}), fed
 * from a queue that admits at most {@code queue} more requests ({@link #admit}; beyond that the
 * request is answered 429 at once).
 */
public final class InferenceServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceServer.class);

  private final String backend;
  private final InProcessSpec spec;
  private final InferenceEngine engine;
  private final LocalAddress address;
  private final ThreadPoolExecutor workers;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  /** Requests admitted and not finished: generating or queued. */
  private final AtomicInteger admitted = new AtomicInteger();
  private final AtomicInteger generating = new AtomicInteger();
  private final Channel listener;
  private volatile boolean closed;

  private InferenceServer(String backend, InProcessSpec spec, InferenceEngine engine, LocalAddress address,
      EventLoopGroup group) throws InterruptedException {
    this.backend = backend;
    this.spec = spec;
    this.engine = engine;
    this.address = address;
    AtomicInteger n = new AtomicInteger();
    this.workers = new ThreadPoolExecutor(spec.maxSequences(), spec.maxSequences(), 0, TimeUnit.MILLISECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "inprocess-" + backend + "-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    this.listener = new ServerBootstrap()
        .group(group)
        .channel(LocalServerChannel.class)
        .option(ChannelOption.ALLOCATOR, Transport.ALLOCATOR)
        .childOption(ChannelOption.ALLOCATOR, Transport.ALLOCATOR)
        .childHandler(new ChannelInitializer<LocalChannel>() {
          @Override
          protected void initChannel(LocalChannel ch) {
            connections.add(ch);
            ch.pipeline().addLast("inference", new InferenceHandler(InferenceServer.this));
          }
        })
        .bind(address).sync().channel();
  }

  /**
   * Serves a loaded model at {@code address} on {@code group}'s event loops (the gateway's, whose
   * I/O handlers host in-VM channels: {@link Transport}).
   */
  public static InferenceServer start(String backend, InProcessSpec spec, InferenceEngine engine,
      LocalAddress address, EventLoopGroup group) throws InterruptedException {
    return new InferenceServer(backend, spec, engine, address, group);
  }

  public String backend() {
    return backend;
  }

  public InProcessSpec spec() {
    return spec;
  }

  public LocalAddress address() {
    return address;
  }

  InferenceEngine engine() {
    return engine;
  }

  /** Sequences generating now. */
  public int generating() {
    return generating.get();
  }

  /** Requests waiting for a sequence. */
  public int queued() {
    return workers.getQueue().size();
  }

  /**
   * Admits a request to a sequence or the queue, or refuses it when {@code maxSequences + queue} are
   * admitted already. An admitted job gives its place back through {@link InferenceJob#releaseAdmission()}.
   */
  boolean admit(InferenceJob job) {
    int limit = spec.maxSequences() + spec.queue();
    for (;;) {
      int now = admitted.get();
      if (closed || now >= limit) {
        return false;
      }
      if (admitted.compareAndSet(now, now + 1)) {
        break;
      }
    }
    try {
      workers.execute(job);
      return true;
    } catch (RuntimeException e) { // shut down meanwhile
      admitted.decrementAndGet();
      return false;
    }
  }

  /** Takes a job that has not started out of the queue; false when it started (or ran) already. */
  boolean unqueue(InferenceJob job) {
    return workers.remove(job);
  }

  void released() {
    admitted.decrementAndGet();
  }

  void sequenceStarted() {
    generating.incrementAndGet();
  }

  void sequenceEnded() {
    generating.decrementAndGet();
  }

  /**
   * Stops accepting connections now and closes the model once nothing is generating or queued, or
   * after {@code grace} (then open connections are closed, which stops their generations at the next
   * token). Blocks: call it off the event loops.
   */
  public void close(Duration grace) {
    closed = true;
    listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + grace.toNanos();
    while (admitted.get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20); // the reload or shutdown thread, never an event loop
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    workers.shutdown();
    boolean idle;
    try {
      idle = workers.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      idle = false;
    }
    if (idle) {
      engine.close();
      LOG.info("in-process backend {}: model {} unloaded", backend, spec.model().getFileName());
    } else {
      // a worker still inside llama.cpp: freeing the model under it would crash the process
      LOG.warn("in-process backend {}: a generation did not stop within 10 s; the model stays loaded", backend);
    }
  }

  @Override
  public void close() {
    close(Duration.ZERO);
  }
}
