package dev.llmgw.server.http;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** The executors that take the endpoints' slow work off the event loops. */
final class BoundedWorkers {
  private BoundedWorkers() {}

  /**
   * {@code threads} daemon threads named {@code name}, with at most {@code waiting} tasks queued behind
   * them: one more is refused ({@link java.util.concurrent.RejectedExecutionException}), for the caller
   * to answer as busy rather than queue without bound.
   */
  static ExecutorService of(String name, int threads, int waiting) {
    return new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(waiting), r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
  }
}
