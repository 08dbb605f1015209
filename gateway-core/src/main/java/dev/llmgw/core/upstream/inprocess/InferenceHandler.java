package dev.llmgw.core.upstream.inprocess;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.ingress.RequestParser;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend side of one in-VM connection: reads the gateway's request (an {@code HttpObject}, no
 * codec: the in-VM channel carries objects), answers what is wrong with it at once (400), admits it
 * to a sequence or its server's queue or refuses it with 429 (the gateway then retries or moves on),
 * and writes the answer a worker thread produces.
 *
 * <p>Threads: Netty callbacks and every write run on this connection's event loop; {@link InferenceJob#run()}
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

  final InferenceServer server;
  ChannelHandlerContext ctx;
  /** The request this connection is answering (one at a time); touched on the event loop only. */
  InferenceJob job;
  /** Chunks written and not yet credited; event loop only. */
  int unacked;

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
    InferenceJob j = new InferenceJob(this, request, keepAlive);
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
    InferenceJob j = job;
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
   * own like every write here (see {@link InferenceJob#requestDrain()}).
   */
  void respond(GatewayError error, boolean keepAlive) {
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
  void writeJson(HttpResponseStatus status, ByteBuf body, boolean keepAlive) {
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

  static String newId(boolean chat) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return (chat ? "chatcmpl-" : "cmpl-") + Long.toHexString(r.nextLong() | Long.MIN_VALUE)
        + Integer.toHexString(r.nextInt() | Integer.MIN_VALUE);
  }
}
