package dev.llmgw.server;

import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.config.Limits;
import dev.llmgw.core.exchange.ExchangeServices;
import dev.llmgw.core.http.WriteCoalescer;
import dev.llmgw.core.config.Access;
import dev.llmgw.server.http.AdminEndpoints;
import dev.llmgw.server.http.RequestReceiveTimeoutHandler;
import dev.llmgw.server.http.ClientRequestAggregator;
import dev.llmgw.server.http.ClientRequestHandler;
import dev.llmgw.server.http.LocalEndpoints;
import dev.llmgw.server.http.RequestHeads;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The only place that knows the client pipeline's order:
 *
 * <pre>
 *   receive-timeout ─▶ coalesce (outbound: small writes copied into one per flush)
 *     ─▶ http (HttpServerCodec, capped line/headers) ─▶ heads ─▶ aggregate (capped body, 413)
 *     ─▶ receive-done ─▶ gateway
 * </pre>
 *
 * <p>Limits are read once per connection from the snapshot current when it is accepted.
 */
final class GatewayChannelInitializer extends ChannelInitializer<Channel> {
  private final Supplier<GatewaySnapshot> snapshots;
  private final ExchangeServices services;
  private final LocalEndpoints local;
  private final AtomicInteger inFlight;
  private final AtomicInteger connections;
  private final AdminEndpoints admin;

  GatewayChannelInitializer(Supplier<GatewaySnapshot> snapshots, ExchangeServices services, LocalEndpoints local,
      AdminEndpoints admin, AtomicInteger inFlight, AtomicInteger connections) {
    this.admin = admin;
    this.connections = connections;
    this.snapshots = snapshots;
    this.services = services;
    this.local = local;
    this.inFlight = inFlight;
    this.heads = new RequestHeads(services.sinks(), services.tracing());
  }

  /** Opens each request's record when its head arrives (shared by every connection). */
  private final RequestHeads heads;

  @Override
  protected void initChannel(Channel ch) {
    Limits limits = snapshots.get().config().limits();
    Access.ConnectionLimits conn = snapshots.get().config().access().connections();
    int open = connections.incrementAndGet();
    ch.closeFuture().addListener(f -> connections.decrementAndGet());
    if (open > conn.maxConnections()) {
      ch.close(); // over the limit: refuse at once, before reading anything
      return;
    }
    ChannelPipeline p = ch.pipeline();
    RequestReceiveTimeoutHandler[] receive = RequestReceiveTimeoutHandler.pair(conn.requestReceiveTimeout(),
        services.sinks());
    p.addLast("receive-timeout", receive[0]);
    p.addLast("coalesce", new WriteCoalescer());
    addHttpCodec(p, limits);
    p.addLast("heads", heads);
    p.addLast("aggregate", new ClientRequestAggregator(limits.maxRequestBytes(), services.sinks()));
    p.addLast("receive-done", receive[1]);
    p.addLast("gateway", new ClientRequestHandler(snapshots, services, local, admin, inFlight));
  }

  private static void addHttpCodec(ChannelPipeline p, Limits limits) {
    p.addLast("http", new HttpServerCodec(new HttpDecoderConfig()
        .setMaxInitialLineLength(limits.maxInitialLineBytes())
        .setMaxHeaderSize(limits.maxHeaderBytes())
        .setMaxChunkSize(64 * 1024)));
  }

}
