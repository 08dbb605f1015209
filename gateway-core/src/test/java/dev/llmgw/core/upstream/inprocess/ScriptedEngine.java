package dev.llmgw.core.upstream.inprocess;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An {@link InferenceEngine} for tests: prompts count one token per word plus the start token; a
 * generation yields {@code "w0 w1 ..."} one word per token (up to {@code maxTokens}, or the script's
 * length), optionally waiting between tokens or until {@link #release()}; it records what it was asked
 * and how generations ended.
 */
final class ScriptedEngine implements InferenceEngine {
  final int context;
  final int length;
  volatile long tokenDelayMicros;
  volatile CountDownLatch gate = new CountDownLatch(0);
  final List<Params> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
  final AtomicInteger cancelled = new AtomicInteger();
  final AtomicInteger completed = new AtomicInteger();
  final AtomicInteger running = new AtomicInteger();
  /** Pieces handed out, over all generations. */
  final AtomicInteger pulled = new AtomicInteger();
  volatile boolean closed;

  ScriptedEngine(int context, int length) {
    this.context = context;
    this.length = length;
  }

  /** Generations wait before each token until {@link #release()}. */
  void hold() {
    gate = new CountDownLatch(1);
  }

  void release() {
    gate.countDown();
  }

  @Override
  public int contextSize() {
    return context;
  }

  @Override
  public int promptTokens(String prompt) {
    return prompt.isBlank() ? 1 : prompt.strip().split("\\s+").length + 1;
  }

  @Override
  public String chatPrompt(List<Message> messages) {
    return ChatPrompts.plain(messages);
  }

  @Override
  public boolean usesTemplate() {
    return false;
  }

  @Override
  public Generation generate(Params params) {
    asked.add(params);
    running.incrementAndGet();
    int n = Math.min(params.maxTokens(), length);
    return new Generation() {
      int i;
      boolean done;

      @Override
      public Piece next() {
        if (done) {
          return null;
        }
        try {
          gate.await(30, TimeUnit.SECONDS);
          if (tokenDelayMicros > 0) {
            TimeUnit.MICROSECONDS.sleep(tokenDelayMicros);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        if (i >= n) {
          end(false);
          return null;
        }
        pulled.incrementAndGet();
        return new Piece((i == 0 ? "w" : " w") + i++, 1);
      }

      @Override
      public void cancel() {
        end(true);
      }

      private void end(boolean cancel) {
        if (!done) {
          done = true;
          running.decrementAndGet();
          (cancel ? cancelled : completed).incrementAndGet();
        }
      }
    };
  }

  /** The text a full generation of {@code n} tokens gives. */
  static String text(int n) {
    List<String> w = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      w.add("w" + i);
    }
    return String.join(" ", w);
  }

  @Override
  public void close() {
    closed = true;
  }
}
