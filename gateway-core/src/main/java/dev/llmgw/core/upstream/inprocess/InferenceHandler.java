package dev.llmgw.core.upstream.inprocess;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.upstream.inprocess.InferenceEngine.Generation;
import dev.llmgw.core.upstream.inprocess.InferenceEngine.Params;
import dev.llmgw.core.upstream.inprocess.InferenceEngine.Piece;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend side of one in-VM connection: reads the gateway's request (an {@code HttpObject}, no
 * codec: the in-VM channel carries objects), answers what is wrong with it at once (400), admits it
 * to a sequence or its server's queue or refuses it with 429 (the gateway then retries or moves on),
 * and writes the answer a worker thread produces.
 *
 * <p>Threads: Netty callbacks and every write run on this connection's event loop; {@link Job#run()}
 * on a worker. They meet in the job's outbox (its monitor): the worker appends text and asks the loop
 * to drain; the loop writes at most {@link #WINDOW} chunks ahead of the gateway's {@link Credit}s, and
 * the worker stops pulling tokens while that window is full and {@link #MAX_PENDING_CHARS} are
 * waiting. When the connection closes (the client left, a timeout, the gateway gave up on the
 * attempt), the job is cancelled: dropped from the queue, or stopped by its worker at the next token,
 * which frees the sequence.
 *
 * <p>Ownership: the request is released here once read; every buffer written goes to the channel.
 */
final class InferenceHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceHandler.class);
  /** Response chunks the gateway side may have unread. */
  static final int WINDOW = 16;
  /** Text a worker may leave waiting before it stops pulling tokens. */
  static final int MAX_PENDING_CHARS = 1024;

  private final InferenceServer server;
  private ChannelHandlerContext ctx;
  /** The request this connection is answering (one at a time); touched on the event loop only. */
  private Job job;
  /** Chunks written and not yet credited; event loop only. */
  private int unacked;

  InferenceHandler(InferenceServer server) {
    this.server = server;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Credit c) {
      unacked = Math.max(0, unacked - c.chunks());
      if (job != null) {
        job.requestDrain();
      }
      return;
    }
    try {
      if (msg instanceof FullHttpRequest req) {
        onRequest(req);
      } else {
        LOG.debug("in-process backend {}: unexpected {}", server.backend(), msg.getClass().getSimpleName());
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onRequest(FullHttpRequest req) {
    boolean keepAlive = HttpUtil.isKeepAlive(req);
    if (job != null) { // the gateway sends one request at a time on a connection
      ctx.close();
      return;
    }
    String path = req.uri();
    int q = path.indexOf('?');
    if (q >= 0) {
      path = path.substring(0, q);
    }
    boolean chat = path.endsWith("/chat/completions");
    boolean completions = !chat && path.endsWith("/completions");
    if (!chat && !completions) {
      respond(GatewayError.unknownPath(req.method().name(), path + " (the in-process backend serves"
          + " /chat/completions and /completions)"), keepAlive);
      return;
    }
    if (!HttpMethod.POST.equals(req.method())) {
      respond(GatewayError.methodNotAllowed(req.method().name(), path, "POST"), keepAlive);
      return;
    }
    InferenceRequest request;
    try {
      JsonNode root = RequestParser.JSON.readTree(new ByteBufInputStream(req.content().duplicate()));
      request = InferenceRequest.parse(chat, root);
    } catch (IOException e) {
      respond(GatewayError.malformedJson(e.getClass().getSimpleName()), keepAlive);
      return;
    } catch (InferenceRequest.Refused e) {
      respond(e.error(), keepAlive);
      return;
    }
    Job j = new Job(request, keepAlive);
    if (!server.admit(j)) {
      respond(GatewayError.rateLimited("The in-process model '" + server.backend() + "' is busy: "
          + server.spec().maxSequences() + " sequences are generating and its queue of " + server.spec().queue()
          + " is full."), keepAlive);
      return;
    }
    job = j;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Job j = job;
    job = null;
    if (j != null) {
      j.cancel();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("in-process backend {}: connection error", server.backend(), cause);
    ctx.close();
  }

  /**
   * Answers an error, as a whole response (nothing of this request was written yet), in a task of its
   * own like every write here (see {@link Job#requestDrain()}).
   */
  private void respond(GatewayError error, boolean keepAlive) {
    ctx.executor().execute(() -> writeJson(HttpResponseStatus.valueOf(error.status()),
        Unpooled.wrappedBuffer(error.toJsonBytes()), keepAlive));
  }

  /**
   * A JSON response as a head and a last chunk — two messages, as the HTTP codec of a TCP backend
   * delivers them (the relay writes the chunk on after its own head: a whole-response object there
   * would be a second head to the client's encoder).
   *
   * @param body taken over: written to the channel
   */
  private void writeJson(HttpResponseStatus status, ByteBuf body, boolean keepAlive) {
    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
    head.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    HttpUtil.setContentLength(head, body.readableBytes());
    if (!keepAlive) {
      head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    ctx.write(head);
    var f = ctx.writeAndFlush(new DefaultLastHttpContent(body));
    if (!keepAlive) {
      f.addListener(ChannelFutureListener.CLOSE);
    }
  }

  private static String newId(boolean chat) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return (chat ? "chatcmpl-" : "cmpl-") + Long.toHexString(r.nextLong() | Long.MIN_VALUE)
        + Integer.toHexString(r.nextInt() | Integer.MIN_VALUE);
  }

  /**
   * One request: generated on a worker ({@link #run()}), written on the connection's loop
   * ({@link #drain()}). The monitor guards the outbox (the fields marked so).
   */
  final class Job implements Runnable {
    private final InferenceRequest request;
    private final boolean keepAlive;
    private final OpenAiWire.Ids ids;
    private final AtomicBoolean admitted = new AtomicBoolean(true);
    private volatile boolean cancelled;
    // the outbox, under this job's monitor
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

    Job(InferenceRequest request, boolean keepAlive) {
      this.request = request;
      this.keepAlive = keepAlive;
      this.ids = new OpenAiWire.Ids(newId(request.chat()), System.currentTimeMillis() / 1000, request.model(),
          request.chat());
    }

    /** The connection closed: drop the job from the queue, or stop it at the next token. */
    void cancel() {
      cancelled = true;
      synchronized (this) {
        notifyAll();
      }
      if (server.unqueue(this)) {
        releaseAdmission();
      }
    }

    boolean cancelled() {
      return cancelled;
    }

    /** Gives back the job's place (a sequence or a place in the queue): once. */
    void releaseAdmission() {
      if (admitted.compareAndSet(true, false)) {
        server.released();
      }
    }

    // ---- the worker ----

    @Override
    public void run() {
      if (cancelled) {
        releaseAdmission();
        return;
      }
      server.sequenceStarted();
      Generation generation = null;
      try {
        InferenceEngine engine = server.engine();
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
        server.sequenceEnded();
        releaseAdmission(); // before the last bytes: the gateway may send the next request at once
        complete(tokens >= max ? "length" : "stop", promptCount, tokens, all == null ? null : all.toString());
      } catch (RuntimeException | Error e) {
        LOG.warn("in-process backend {}: generation failed: {}", server.backend(), e.toString());
        fail(GatewayError.internal("the in-process model failed (" + e.getClass().getSimpleName() + ")"));
      } finally {
        if (generation != null) {
          try {
            generation.cancel();
          } catch (RuntimeException e) {
            LOG.debug("in-process backend {}: cancel failed", server.backend(), e);
          }
        }
        if (admitted.get()) {
          server.sequenceEnded();
          releaseAdmission();
        }
      }
    }

    /** Hands text to the loop, then waits while the gateway side is behind (flow control). */
    private void offer(String text) {
      synchronized (this) {
        pending.append(text);
        scheduleDrain();
        while (!cancelled && pending.length() >= MAX_PENDING_CHARS) {
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
        ctx.executor().execute(this::drain);
      }
    }

    // ---- the event loop ----

    /** Writes what the worker produced, within the window. On the connection's event loop. */
    void drain() {
      if (ended) {
        return;
      }
      if (!ctx.channel().isActive()) {
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
        if (pending.length() > 0 && error == null && (unacked < WINDOW || last || !request.stream())) {
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
          job = null;
          writeJson(HttpResponseStatus.OK, OpenAiWire.body(ctx.alloc(), ids, text == null ? "" : text, finishReason,
              promptTokens, completionTokens), keepAlive);
        }
        return;
      }
      if (text != null || end) {
        sendHead();
      }
      if (text != null) {
        ctx.write(new DefaultHttpContent(OpenAiWire.chunk(ctx.alloc(), ids, text, false, null)));
        unacked++;
      }
      if (end) {
        ended = true;
        ctx.write(new DefaultHttpContent(OpenAiWire.chunk(ctx.alloc(), ids, "", false, finishReason)));
        if (request.includeUsage()) {
          ctx.write(new DefaultHttpContent(OpenAiWire.usageChunk(ctx.alloc(), ids, promptTokens, completionTokens)));
        }
        finishWith(new DefaultLastHttpContent(OpenAiWire.done(ctx.alloc())));
        return;
      }
      ctx.flush();
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
      ctx.write(head);
      if (request.chat()) {
        ctx.write(new DefaultHttpContent(OpenAiWire.chunk(ctx.alloc(), ids, "", true, null)));
        unacked++;
      }
    }

    private void end(GatewayError error) {
      ended = true;
      job = null;
      if (headSent) {
        ctx.close(); // the stream had started: a cut the gateway reports as such
        return;
      }
      writeJson(HttpResponseStatus.valueOf(error.status()), Unpooled.wrappedBuffer(error.toJsonBytes()), keepAlive);
    }

    /** The response's last message: the connection is free for the next request (or closed). */
    private void finishWith(Object last) {
      job = null;
      if (keepAlive) {
        ctx.writeAndFlush(last);
      } else {
        ctx.writeAndFlush(last).addListener(ChannelFutureListener.CLOSE);
      }
    }
  }
}
