package dev.llmgw.core.exchange;

import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.log.RequestLogBuilder;
import dev.llmgw.core.resilience.FailureClassifier;
import dev.llmgw.core.resilience.FailureClassifier.Failure;
import dev.llmgw.core.upstream.UpstreamRequests;
import dev.llmgw.core.usage.TokenEstimator;
import dev.llmgw.core.usage.TokenUsage;
import dev.llmgw.core.usage.UsageTap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayList;
import java.util.List;

/**
 * Relays the 2xx answer of an exchange's current attempt to the client. The head is held until the
 * first body chunk arrives — the fallback boundary: before it {@link #discard} forgets the attempt's
 * answer and another may follow; the first chunk commits. Every chunk passes through the usage tap
 * (which meters it and strips a usage event the client did not ask for); after the last, the answer
 * either ended cleanly or is reported broken, and a failure after the commit ends the response
 * visibly broken ({@link #terminate}).
 *
 * <p>Confined to the client's event loop. Owns each chunk it is given: written to the client or released.
 */
final class ResponseRelay {
  /** Largest SSE event held while framing a stream whose usage chunk is stripped. */
  private static final int MAX_EVENT_BYTES = 1 << 20;

  /** What a chunk did. */
  enum Step {
    /** Relayed; more to come. */
    MORE,
    /** Before the commit: the body is not JSON (nothing was written; the attempt failed). */
    MALFORMED,
    /** The last chunk, and the answer is incomplete ({@link #brokenFailure()}); written, not ended. */
    BROKEN,
    /** The last chunk: the answer ended cleanly. */
    COMPLETE
  }

  private final ChannelHandlerContext client;
  private final RequestContext context;
  private final RequestLogBuilder log;
  private final ParsedRequest request;
  /** Adds the gateway's own headers to the head sent at the commit. */
  private final java.util.function.Consumer<HttpHeaders> decorate;
  private final List<ByteBuf> tapped = new ArrayList<>(4);
  private HttpResponse heldHead;
  private UsageTap tap;
  private boolean committed;
  private boolean eventStream;
  private Failure broken;

  ResponseRelay(ChannelHandlerContext client, RequestContext context, ParsedRequest request,
      java.util.function.Consumer<HttpHeaders> decorate) {
    this.client = client;
    this.decorate = decorate;
    this.context = context;
    this.log = context.log();
    this.request = request;
  }

  boolean committed() {
    return committed;
  }

  Failure brokenFailure() {
    return broken;
  }

  /** A 2xx head from a new attempt: held, not sent (see class doc). */
  void head(HttpResponse head) {
    heldHead = head;
    eventStream = ResponseHeads.isEventStream(head);
    if (tap != null) {
      tap.release();
    }
    // every proxied endpoint answers JSON or an event stream: any other 2xx body is checked as JSON
    // (and found malformed) rather than relayed as a success
    tap = eventStream ? UsageTap.forEventStream(UpstreamRequests.injectsUsage(request), MAX_EVENT_BYTES)
        : UsageTap.forJson();
  }

  /**
   * Takes ownership of {@code content}: meters it and writes what the client gets. The first chunk
   * commits: the held head goes out first.
   */
  Step content(HttpContent content, String backend) {
    boolean last = content instanceof LastHttpContent;
    tapped.clear();
    if (last) {
      tap.onLastChunk(content.content(), tapped);
    } else {
      tap.onChunk(content.content(), tapped);
    }
    if (!committed) {
      if (!eventStream && tap.malformed()) { // before the first byte: a backend failure like a 500
        releaseTapped();
        return Step.MALFORMED;
      }
      commit(backend);
    }
    if (!last) {
      write(content, false);
      return Step.MORE;
    }
    broken = eventStream && !tap.sawDone() ? FailureClassifier.incompleteStream(backend)
        : !eventStream && tap.malformed() ? FailureClassifier.malformed(backend,
            "its response body ended without a well-formed JSON object") : null;
    write(content, broken == null);
    if (broken != null) {
      return Step.BROKEN;
    }
    client.flush();
    if (!context.keepAlive()) {
      ClientResponses.closeAfter(client.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER));
    }
    return Step.COMPLETE;
  }

  private void commit(String backend) {
    committed = true;
    log.responseStarted(heldHead.status().code(), System.nanoTime());
    boolean bodyChanges = eventStream && UpstreamRequests.injectsUsage(request);
    if (context.http10() && !ResponseHeads.lengthKnown(heldHead, bodyChanges)) {
      context.closeAfterResponse(); // an HTTP/1.0 client: no chunked coding, the body ends with the connection
    }
    HttpResponse head = ResponseHeads.forClient(heldHead, context.requestId(), backend, context.keepAlive(),
        bodyChanges, !context.http10());
    if (context.cacheFill() != null) {
      context.cacheFill().start(head.headers().get(io.netty.handler.codec.http.HttpHeaderNames.CONTENT_TYPE),
          eventStream);
    }
    decorate.accept(head.headers());
    client.write(head, client.voidPromise());
    heldHead = null;
  }

  /**
   * Writes what the tap gave for {@code content} to the client. In the common case that is the very
   * same buffer and the original {@link HttpContent} is written; otherwise (a stripped usage event,
   * an event held across chunks) the tap's buffers are wrapped. With the void promise: no promise,
   * listener or promise combiner per chunk (a failed write reaches the pipeline's exceptionCaught,
   * which closes the connection, and the exchange ends as the client gone).
   *
   * @param end whether to end the response here (the body's last chunk, and nothing wrong with it)
   */
  private void write(HttpContent content, boolean end) {
    boolean last = content instanceof LastHttpContent;
    ByteBuf in = content.content();
    CacheFill fill = context.cacheFill();
    if (tapped.size() == 1 && tapped.get(0) == in && (!last || end)) {
      log.bytesOut(in.readableBytes());
      if (fill != null) {
        fill.append(in);
      }
      client.write(content, client.voidPromise());
      tapped.clear();
      return;
    }
    for (ByteBuf b : tapped) {
      log.bytesOut(b.readableBytes());
      if (fill != null) {
        fill.append(b);
      }
      client.write(new DefaultHttpContent(b), client.voidPromise());
    }
    if (end) {
      client.write(LastHttpContent.EMPTY_LAST_CONTENT, client.voidPromise());
    }
    tapped.clear();
  }

  private void releaseTapped() {
    for (ByteBuf b : tapped) {
      b.release();
    }
    tapped.clear();
  }

  /** The attempt failed before the commit: forget its head and what was metered. */
  void discard() {
    heldHead = null;
    if (tap != null) {
      tap.release();
      tap = null;
    }
  }

  /**
   * A failure after the commit: an SSE error event and a proper end of the chunked body (the
   * connection stays usable), or for a JSON body a close — never a clean end with half an answer.
   */
  void terminate(GatewayError error) {
    if (eventStream) {
      client.write(ResponseHeads.sseError(error, client.alloc()));
      var f = client.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
      if (!context.keepAlive()) {
        ClientResponses.closeAfter(f);
      }
    } else {
      client.flush();
      ClientResponses.markClosing(client.channel());
      client.close(); // truncated body: the client sees a broken response, never a clean end
    }
  }

  /**
   * Records what the request consumed: the backend's own usage when it reported it; otherwise, when
   * a backend answered something (a cut or cancelled stream, a server that reports none), an estimate
   * over the prompt and the text relayed so far — marked estimated, never zero. Releases the tap.
   *
   * @param reached whether an attempt reached a backend
   * @param clientGone whether the client left before the end
   */
  void recordUsage(boolean reached, boolean clientGone) {
    TokenUsage usage = tap == null ? null : tap.usage();
    if (usage != null) {
      log.usage(usage.promptTokens(), usage.completionTokens(), usage.cachedPromptTokens(), false);
    } else if (reached && (committed || clientGone)) {
      log.usage(TokenEstimator.promptTokens(request.json()),
          tap == null ? 0 : TokenEstimator.count(tap.generatedText()), 0, true);
    }
    if (tap != null) {
      tap.release();
      tap = null;
    }
  }
}
