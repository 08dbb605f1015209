package dev.llmgw.core.upstream.inprocess;

import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.upstream.inprocess.InferenceEngine.Generation;
import dev.llmgw.core.upstream.inprocess.InferenceEngine.Params;
import dev.llmgw.core.upstream.inprocess.InferenceEngine.Piece;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request: generated on a worker ({@link #run()}), written on the connection's loop
 * ({@link #drain()}). The monitor guards the outbox (the fields marked so).
 */
final class InferenceJob implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceJob.class);
  /** The connection this handler.job answers on. */
  private final InferenceHandler handler;
  private final InferenceRequest request;
  private final boolean keepAlive;
  private final OpenAiWire.Ids ids;
  private final AtomicBoolean admitted = new AtomicBoolean(true);
  private volatile boolean cancelled;
  // the outbox, under this handler.job's monitor
  private final StringBuilder pending = new StringBuilder();
  private boolean drainScheduled;
  private boolean finished;
  private String finishReason;
  private int promptTokens;
  private int completionTokens;
  private GatewayError failure;
  // event loop only
  private boolean headSent;
  private boolean ended;

  InferenceJob(InferenceHandler handler, InferenceRequest request, boolean keepAlive) {
    this.handler = handler;
    this.request = request;
    this.keepAlive = keepAlive;
    this.ids = new OpenAiWire.Ids(InferenceHandler.newId(request.chat()), System.currentTimeMillis() / 1000, request.model(),
        request.chat());
  }

  /** The connection closed: drop the handler.job from the queue, or stop it at the next token. */
  void cancel() {
    cancelled = true;
    synchronized (this) {
      notifyAll();
    }
    if (handler.server.unqueue(this)) {
      releaseAdmission();
    }
  }

  boolean cancelled() {
    return cancelled;
  }

  /** Gives back the handler.job's place (a sequence or a place in the queue): once. */
  void releaseAdmission() {
    if (admitted.compareAndSet(true, false)) {
      handler.server.released();
    }
  }

  // ---- the worker ----

  @Override
  public void run() {
    if (cancelled) {
      releaseAdmission();
      return;
    }
    handler.server.sequenceStarted();
    Generation generation = null;
    try {
      InferenceEngine engine = handler.server.engine();
      String prompt = request.chat() ? engine.chatPrompt(request.messages()) : request.prompt();
      int promptCount = engine.promptTokens(prompt);
      int context = engine.contextSize();
      Integer asked = request.maxTokens();
      if (promptCount >= context || asked != null && promptCount + asked > context) {
        String message = "This model's maximum context length is " + context + " tokens. However, you requested "
            + (promptCount + (asked == null ? 0 : asked)) + " tokens (" + promptCount + " in the "
            + (request.chat() ? "messages" : "prompt") + ", " + (asked == null ? 0 : asked) + " in the completion)."
            + " Please reduce the length of the " + (request.chat() ? "messages" : "prompt") + " or completion.";
        fail(GatewayError.contextLengthExceeded(message));
        return;
      }
      int max = asked != null ? asked : context - promptCount;
      List<String> stop = new ArrayList<>(request.stop());
      if (request.chat() && !engine.usesTemplate()) {
        stop.add(ChatPrompts.STOP);
      }
      generation = engine.generate(new Params(prompt, max, request.temperature(), request.topP(), request.topK(),
          request.minP(), request.seed(), request.presencePenalty(), request.frequencyPenalty(),
          request.repeatPenalty(), request.ignoreEos(), stop));
      int tokens = 0;
      StringBuilder all = request.stream() ? null : new StringBuilder();
      Piece piece;
      while (!cancelled && (piece = generation.next()) != null) {

        tokens += piece.tokens();
        if (all != null) {
          all.append(piece.text());
        } else {
          offer(piece.text());
        }
      }
      if (cancelled) {
        return; // finally: the generation is stopped and its sequence freed
      }
      generation = null; // ended on its own
      handler.server.sequenceEnded();
      releaseAdmission(); // before the last bytes: the gateway may send the next request at once
      complete(tokens >= max ? "length" : "stop", promptCount, tokens, all == null ? null : all.toString());
    } catch (RuntimeException | Error e) {
      LOG.warn("in-process backend {}: generation failed: {}", handler.server.backend(), e.toString());
      fail(GatewayError.internal("the in-process model failed (" + e.getClass().getSimpleName() + ")"));
    } finally {
      if (generation != null) {
        try {
          generation.cancel();
        } catch (RuntimeException e) {
          LOG.debug("in-process backend {}: cancel failed", handler.server.backend(), e);
        }
      }
      if (admitted.get()) {
        handler.server.sequenceEnded();
        releaseAdmission();
      }
    }
  }

  /** Hands text to the loop, then waits while the gateway side is behind (flow control). */
  private void offer(String text) {
    synchronized (this) {
      pending.append(text);
      scheduleDrain();
      while (!cancelled && pending.length() >= InferenceHandler.MAX_PENDING_CHARS) {
        try {
          wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          cancelled = true;
        }
      }
    }
  }

  private void complete(String reason, int prompt, int completion, String wholeText) {
    synchronized (this) {
      finishReason = reason;
      promptTokens = prompt;
      completionTokens = completion;
      finished = true;
      if (wholeText != null) {
        pending.setLength(0);
        pending.append(wholeText);
      }
      scheduleDrain();
    }
  }

  /**
   * Fails the request: an error response if nothing was written yet, else (a stream already going)
   * the connection is closed, which the gateway reports as a broken stream.
   */
  private void fail(GatewayError error) {
    synchronized (this) {
      failure = error;
      finished = true;
      scheduleDrain();
    }
  }

  /**
   * Asks for a drain in a task of its own, never in the caller's stack: an in-VM channel delivers
   * messages to its peer synchronously, so a write here can run inside this channel's own flush (the
   * gateway side read a chunk that flush delivered and credited it back at once), where Netty drops
   * the nested flush and the messages would wait in the outbound buffer for a flush that never comes.
   */
  void requestDrain() {
    synchronized (this) {
      scheduleDrain();
    }
  }

  private void scheduleDrain() { // under the monitor
    if (!drainScheduled) {
      drainScheduled = true;
      handler.ctx.executor().execute(this::drain);
    }
  }

  // ---- the event loop ----

  /** Writes what the worker produced, within the window. On the connection's event loop. */
  void drain() {
    if (ended) {
      return;
    }
    if (!handler.ctx.channel().isActive()) {
      synchronized (this) {
        drainScheduled = false;
      }
      return;
    }
    String text = null;
    boolean end;
    GatewayError error;
    synchronized (this) {
      drainScheduled = false;
      error = failure;
      boolean last = finished && error == null;
      if (pending.length() > 0 && error == null && (handler.unacked < InferenceHandler.WINDOW || last || !request.stream())) {
        text = pending.toString();
        pending.setLength(0);
        notifyAll(); // room for the worker again
      }
      end = finished && (error != null || pending.length() == 0);
    }
    if (error != null) {
      end(error);
      return;
    }
    if (!request.stream()) {
      if (end) {
        ended = true;
        handler.job = null;
        handler.writeJson(HttpResponseStatus.OK, OpenAiWire.body(handler.ctx.alloc(), ids, text == null ? "" : text, finishReason,
            promptTokens, completionTokens), keepAlive);
      }
      return;
    }
    if (text != null || end) {
      sendHead();
    }
    if (text != null) {
      handler.ctx.write(new DefaultHttpContent(OpenAiWire.chunk(handler.ctx.alloc(), ids, text, false, null)));
      handler.unacked++;
    }
    if (end) {
      ended = true;
      handler.ctx.write(new DefaultHttpContent(OpenAiWire.chunk(handler.ctx.alloc(), ids, "", false, finishReason)));
      if (request.includeUsage()) {
        handler.ctx.write(new DefaultHttpContent(OpenAiWire.usageChunk(handler.ctx.alloc(), ids, promptTokens, completionTokens)));
      }
      finishWith(new DefaultLastHttpContent(OpenAiWire.done(handler.ctx.alloc())));
      return;
    }
    handler.ctx.flush();
  }

  private void sendHead() {
    if (headSent) {
      return;
    }
    headSent = true;
    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
    head.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
    HttpUtil.setTransferEncodingChunked(head, true);
    if (!keepAlive) {
      head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    handler.ctx.write(head);
    if (request.chat()) {
      handler.ctx.write(new DefaultHttpContent(OpenAiWire.chunk(handler.ctx.alloc(), ids, "", true, null)));
      handler.unacked++;
    }
  }

  private void end(GatewayError error) {
    ended = true;
    handler.job = null;
    if (headSent) {
      handler.ctx.close(); // the stream had started: a cut the gateway reports as such
      return;
    }
    handler.writeJson(HttpResponseStatus.valueOf(error.status()), Unpooled.wrappedBuffer(error.toJsonBytes()), keepAlive);
  }

  /** The response's last message: the connection is free for the next request (or closed). */
  private void finishWith(Object last) {
    handler.job = null;
    if (keepAlive) {
      handler.ctx.writeAndFlush(last);
    } else {
      handler.ctx.writeAndFlush(last).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
