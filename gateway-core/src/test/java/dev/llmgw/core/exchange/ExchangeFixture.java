package dev.llmgw.core.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.config.Failover;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.Limits;
import dev.llmgw.core.config.Resilience;
import dev.llmgw.core.config.Timeouts;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.log.RequestLog;
import dev.llmgw.core.log.RequestLogBuilder;
import dev.llmgw.core.resilience.BackendGuards;
import dev.llmgw.core.resilience.FailureClass;
import dev.llmgw.core.resilience.Unavailable;
import dev.llmgw.core.route.ModelRouter;
import dev.llmgw.core.route.Route;
import dev.llmgw.core.route.RoutePlan;
import dev.llmgw.core.upstream.FakeConnections;
import dev.llmgw.testkit.TestConfigs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.PendingWriteQueue;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the {@code EmbeddedChannel} tests of the exchange share: a client channel on a frozen clock
 * (its first handler's context is the exchange's client; a {@link Valve} in front of it can hold the
 * client's writes to make it unwritable), fake backend connections ({@link FakeConnections}), real
 * guards, the request's log with a listener that counts its ends, and a record of every buffer the
 * test makes, so that {@link #close} can check each one was released.
 *
 * <p>Everything runs on the test thread: an {@code EmbeddedChannel}'s loop runs its tasks when the test
 * writes, and its scheduled tasks only when the test advances the clock and asks.
 */
final class ExchangeFixture implements AutoCloseable {
  static final String CHAT = "{\"model\":\"smart\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the test.\"}]}";
  static final String CHAT_STREAM =
      "{\"model\":\"smart\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the test.\"}]}";
  static final String JSON_ANSWER = "{\"id\":\"c1\",\"object\":\"chat.completion\",\"model\":\"%s\",\"choices\":[{\"index\":0,"
      + "\"message\":{\"role\":\"assistant\",\"content\":\"hello from %s\"},\"finish_reason\":\"stop\"}],"
      + "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":3,\"total_tokens\":14}}";

  /** Remote's timeouts: first byte 5 s, idle 4 s, total 60 s. */
  static final Timeouts REMOTE_TIMEOUTS = new Timeouts(Duration.ofSeconds(1), Duration.ofSeconds(5),
      Duration.ofSeconds(4), Duration.ofSeconds(60));

  final FakeConnections connections = new FakeConnections();
  final BackendGuards guards = new BackendGuards();
  final List<String> events = new ArrayList<>();
  final List<RequestLog> ended = new ArrayList<>();
  final List<ByteBuf> made = new ArrayList<>();
  final Valve valve = new Valve();
  final EmbeddedChannel client = new EmbeddedChannel(DefaultChannelId.newInstance(), valve,
      new ChannelInboundHandlerAdapter());
  final ChannelHandlerContext clientCtx = client.pipeline().lastContext();
  final Watchdog watchdog;
  /** What the client received so far, one line per message: {@code HEAD 200}, {@code DATA text}, {@code END}. */
  final List<String> received = new ArrayList<>();
  HttpResponse receivedHead;
  final GatewayConfig config;
  ByteBuf body;
  int done;

  /**
   * Two backends, "remote" (first) and "local" (its fallback), alias {@code smart}.
   *
   * @param remote remote's resilience (its retries)
   */
  ExchangeFixture(Resilience remote, Failover failover) {
    client.freezeTime(); // the exchange's clock (watchdog deadlines, retry waits) moves only when told
    watchdog = new Watchdog(client.eventLoop());
    config = TestConfigs.failover("http://remote.test:8080/v1", "http://local.test:8081/v1", remote,
        REMOTE_TIMEOUTS, failover);
  }

  static Resilience retries(int maxAttempts) {
    Resilience d = Resilience.defaults();
    return new Resilience(d.maxConcurrent(), null, d.breaker(),
        new Resilience.Retry(maxAttempts, Duration.ofMillis(100), 2, Duration.ofSeconds(1)), null);
  }

  RoutePlan plan(String alias) {
    return new ModelRouter(config).plan(alias);
  }

  Route route(String alias) {
    return new ModelRouter(config).route(alias);
  }

  ParsedRequest parse(String json) {
    body = track(Unpooled.copiedBuffer(json, StandardCharsets.UTF_8));
    return RequestParser.parse(Endpoint.CHAT_COMPLETIONS, new ByteBufInputStream(body.duplicate()));
  }

  /** An exchange for {@code json} over {@code plan}; not started. */
  ProxyExchange exchange(RoutePlan plan, String json) {
    return exchange(plan, json, dev.llmgw.core.trace.RequestTrace.NONE);
  }

  /** An exchange for {@code json} over {@code plan}, traced by {@code trace} (it ends with the log); not started. */
  ProxyExchange exchange(RoutePlan plan, String json, dev.llmgw.core.trace.RequestTrace trace) {
    ParsedRequest request = parse(json);
    RequestLogBuilder log = new RequestLogBuilder("rid-1", "POST", "/v1/chat/completions", "127.0.0.1",
        trace.around(ended::add));
    log.received(System.nanoTime()); // the exchange counts its failover deadline from here
    RequestContext context = new RequestContext("rid-1", log, true, false, trace);
    ExchangeServices services = new ExchangeServices(connections, guards, recordingEvents());
    return new ProxyExchange(clientCtx, services, plan, request, body, context, Limits.defaults(),
        config.failover(), watchdog, x -> done++);
  }

  ExchangeEvents recordingEvents() {
    return new ExchangeEvents() {
      @Override
      public void attemptStarted(Route route) {
        events.add("start " + route.backend().name());
      }

      @Override
      public void attemptFailed(Route route, FailureClass failure, long durationNanos, boolean committed) {
        events.add("failed " + route.backend().name() + " " + failure.tag() + (committed ? " committed" : ""));
      }

      @Override
      public void retried(Route route, FailureClass failure) {
        events.add("retry " + route.backend().name() + " " + failure.tag());
      }

      @Override
      public void fellBack(Route from, Route to, FailureClass reason) {
        events.add("fallback " + from.backend().name() + "->" + to.backend().name() + " " + reason.tag());
      }

      @Override
      public void skipped(Route route, Unavailable reason) {
        events.add("skipped " + route.backend().name() + " " + reason);
      }

      @Override
      public void lastResort(Route from, Route to, FailureClass reason) {
        events.add("last resort " + from.backend().name() + "->" + to.alias().alias() + " " + reason.tag());
      }
    };
  }

  /** The one record the request ended with (fails unless it ended exactly once). */
  RequestLog log() {
    assertThat(ended).as("the request's log ends exactly once").hasSize(1);
    return ended.get(0);
  }

  // ---- the clock ----

  /** Advances the client loop's clock and runs what fell due (the watchdog, retry waits). */
  void advance(Duration d) {
    client.advanceTimeBy(d.toNanos(), TimeUnit.NANOSECONDS);
    client.runScheduledPendingTasks();
    client.runPendingTasks();
  }

  // ---- backend messages ----

  ByteBuf track(ByteBuf b) {
    made.add(b);
    return b;
  }

  ByteBuf bytes(String s) {
    return track(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8));
  }

  static HttpResponse head(int status, String contentType, String... headerPairs) {
    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    r.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    for (int i = 0; i < headerPairs.length; i += 2) {
      r.headers().add(headerPairs[i], headerPairs[i + 1]);
    }
    return r;
  }

  HttpContent chunk(String s) {
    return new DefaultHttpContent(bytes(s));
  }

  LastHttpContent last(String s) {
    return new DefaultLastHttpContent(bytes(s));
  }

  /** A whole JSON answer from {@code backend}: head, body, end. */
  void answerJson(EmbeddedChannel backend, String name) {
    backend.writeInbound(head(200, "application/json"), last(String.format(JSON_ANSWER, name + "-model", name)));
  }

  /** An error answer: head with {@code headerPairs}, then the JSON error body in two chunks. */
  void answerError(EmbeddedChannel backend, int status, String message, String... headerPairs) {
    String json = "{\"error\":{\"message\":\"" + message + "\",\"type\":\"server_error\",\"code\":null}}";
    int half = json.length() / 2;
    backend.writeInbound(head(status, "application/json", headerPairs), chunk(json.substring(0, half)),
        last(json.substring(half)));
  }

  static String sseEvent(String text) {
    return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\""
        + text + "\"},\"finish_reason\":null}]}\n\n";
  }

  /** The upstream request sent on {@code backend} (released here): its body, or null when none was sent. */
  static String upstreamBody(EmbeddedChannel backend) {
    Object o = backend.readOutbound();
    if (o == null) {
      return null;
    }
    try {
      assertThat(o).isInstanceOf(FullHttpRequest.class);
      FullHttpRequest r = (FullHttpRequest) o;
      assertThat(r.uri()).endsWith("/chat/completions");
      return r.content().toString(StandardCharsets.UTF_8);
    } finally {
      ReferenceCountUtil.release(o);
    }
  }

  // ---- the client side ----

  /** Reads what the client got since the last call (releasing it) into {@link #received}; returns all of it. */
  List<String> received() {
    Object o;
    while ((o = client.readOutbound()) != null) {
      try {
        if (o instanceof HttpResponse h) {
          receivedHead = h;
          received.add("HEAD " + h.status().code());
        }
        if (o instanceof HttpContent c) {
          if (c.content().isReadable()) {
            received.add("DATA " + c.content().toString(StandardCharsets.UTF_8));
          }
          if (c instanceof LastHttpContent) {
            received.add("END");
          }
        } else if (o instanceof ByteBuf b && b.isReadable()) {
          received.add("BYTES " + b.toString(StandardCharsets.UTF_8));
        }
      } finally {
        ReferenceCountUtil.release(o);
      }
    }
    return received;
  }

  String header(CharSequence name) {
    assertThat(receivedHead).as("a response head reached the client").isNotNull();
    return receivedHead.headers().get(name);
  }

  /**
   * Holds the client's writes, counting them as pending on the channel (as a socket whose send buffer
   * is full would), so the channel goes unwritable past its high-water mark.
   */
  static final class Valve extends ChannelOutboundHandlerAdapter {
    private ChannelHandlerContext ctx;
    private PendingWriteQueue held;
    private boolean shut;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
      this.held = new PendingWriteQueue(ctx);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (shut) {
        held.add(msg, promise);
      } else {
        ctx.write(msg, promise);
      }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
      if (!shut) {
        ctx.flush();
      }
    }

    void shut() {
      shut = true;
    }

    void open() {
      shut = false;
      held.removeAndWriteAll();
      ctx.flush();
    }
  }

  // ---- the end ----

  /** Checks that nothing is left held: every buffer made released, every pool balanced, nothing unread. */
  void assertAllReleased() {
    assertThat(received()).isNotNull(); // reads (and releases) what the client still had
    for (EmbeddedChannel b : connections.allChannels()) {
      assertThat(upstreamBody(b)).as("an upstream request the test did not read").isNull();
    }
    assertThat(made).as("every buffer the test made is released").allSatisfy(b ->
        assertThat(b.refCnt()).isZero());
  }

  @Override
  public void close() {
    valve.open();
    received();
    client.finishAndReleaseAll();
    for (EmbeddedChannel b : connections.allChannels()) {
      b.finishAndReleaseAll();
    }
    for (ByteBuf b : made) { // after a failed test: free what is still held, so one failure is not also a leak
      if (b.refCnt() > 0) {
        b.release(b.refCnt());
      }
    }
  }

  /** Every guard has given back every bulkhead permit. */
  void assertGuardsIdle() {
    for (dev.llmgw.core.resilience.BackendGuard g : guards.all()) {
      org.assertj.core.api.Assertions.assertThat(g.bulkhead().getMetrics().getAvailableConcurrentCalls())
          .as("%s: every permit given back", g.spec().name())
          .isEqualTo(g.spec().resilience().maxConcurrent());
    }
  }
}
