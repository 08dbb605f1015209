package dev.llmgw.server;

import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.exchange.ExchangeEvents;
import dev.llmgw.core.log.RequestLogListener;
import dev.llmgw.core.access.AccessControl;
import dev.llmgw.core.economics.EconomicsRecorder;
import dev.llmgw.core.state.StateStore;
import dev.llmgw.core.state.StateStores;
import dev.llmgw.core.trace.Tracing;
import dev.llmgw.core.metrics.GatewayMetrics;
import dev.llmgw.server.http.AccessLog;
import dev.llmgw.server.http.AdminEndpoints;
import dev.llmgw.server.http.EconomicsEndpoints;
import java.time.Clock;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyEventExecutorMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import dev.llmgw.core.exchange.ExchangeServices;
import dev.llmgw.core.route.TierClassifier;
import dev.llmgw.routing.Vocabulary;
import dev.llmgw.core.resilience.BackendGuards;
import dev.llmgw.core.resilience.HealthChecker;
import dev.llmgw.core.resilience.LocalModelHint;
import dev.llmgw.core.upstream.BackendPools;
import dev.llmgw.core.upstream.inprocess.InProcessBackends;
import dev.llmgw.core.upstream.inprocess.InferenceServer;
import dev.llmgw.core.upstream.inprocess.LlamaEngine;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.server.http.LocalEndpoints;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway process: event loops, the listening socket, backend pools, and a graceful stop
 * (readiness goes to 503, the listener closes, in-flight requests get a grace period).
 */
public final class GatewayServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GatewayServer.class);

  private final AtomicReference<GatewaySnapshot> snapshot;
  private final Transport transport;
  private final EventLoopGroup group;
  private final BackendPools pools;
  /** The models run inside the gateway (backends of type inprocess). */
  private final InProcessBackends inProcess;
  private final BackendGuards guards = new BackendGuards();
  private final StateStore state;
  private final AccessControl accessControl;
  private final TierClassifier classifier;
  private final HealthChecker health = new HealthChecker(guards);
  /** How to point the gateway at a model: said at start and in errors while no local model is up. */
  private final LocalModelHint hint;
  private final ExchangeEvents events;
  /** Told of every ended request: metrics, ledger and caller usage, access log (and a test's listener). */
  private final RequestLogListener sinks;
  private final PrometheusMeterRegistry prometheus;
  /** Where each request's trace starts; {@link Tracing#OFF} unless gateway.yaml turns tracing on. */
  private final Tracing tracing;
  private final GatewayMetrics metrics;
  private final EconomicsRecorder economics;
  /** The exact response cache (process-wide; each request applies its snapshot's cache settings). */
  private final dev.llmgw.core.cache.ResponseCache cache = new dev.llmgw.core.cache.ResponseCache();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicInteger inFlight = new AtomicInteger();
  private Channel serverChannel;
  private ConfigReloader reloader;
  private AdminEndpoints admin;
  /** The endpoints the gateway answers itself (set by start; its scrape thread stops with the server). */
  private LocalEndpoints local;
  /** Heartbeats on the event loops (set by start): lag histogram, stall counter and the stalled loop's stack. */
  private EventLoopWatchdog watchdog;

  public GatewayServer(GatewayConfig config) {
    this(config, Transport.best(), 0);
  }

  /**
   * The two tokenizers' vocabularies (the usage estimate's and the routing rules' prompt-token count,
   * about half a second of one core each), read beside the rest of start-up: loaded lazily, the first
   * stream ending without usage or the first {@code promptTokens} rule would read one on an event loop
   * and stall every connection on it. {@link #start()} waits for them before it binds.
   */
  private final Thread vocabularies = startVocabularies();

  private static Thread startVocabularies() {
    Thread t = new Thread(Vocabulary::warmUp, "gateway-vocabularies");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** @param threads event-loop threads, 0 for one per available core */
  public GatewayServer(GatewayConfig config, Transport transport, int threads) {
    this(config, transport, threads, RequestLogListener.NOOP);
  }

  /** @param listener also told of every ended request (tests), after the metrics, ledger and access log */
  public GatewayServer(GatewayConfig config, Transport transport, int threads, RequestLogListener listener) {
    this(GatewaySnapshot.of(config), transport, threads, listener);
  }

  /**
   * @param initial  the first config snapshot (gateway.yaml and routing.yaml, see SnapshotLoader)
   * @param listener also told of every ended request (tests), after the metrics, ledger and access log
   */
  public GatewayServer(GatewaySnapshot initial, Transport transport, int threads, RequestLogListener listener) {
    this(initial, transport, threads, listener, Tracing.start(initial.config().tracing()));
  }

  /**
   * @param tracing the process's tracer (its config's {@code tracing}, or a test's in-memory one); the
   *                server shuts it down on stop
   */
  public GatewayServer(GatewaySnapshot initial, Transport transport, int threads, RequestLogListener listener,
      Tracing tracing) {
    GatewayConfig config = initial.config();
    this.tracing = tracing;
    // with tracing on, the latency histograms carry the trace id of a request as an exemplar
    this.prometheus = tracing.enabled()
        ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(),
            io.micrometer.core.instrument.Clock.SYSTEM, new TraceExemplars())
        : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    configureRegistry();
    this.metrics = new GatewayMetrics(prometheus);
    metrics.bindCache(cache::bytes, cache::entries);
    cache.configure(config.cache());
    this.classifier = new TierClassifier(prometheus);
    this.classifier.configure(initial.router().classifierSettings());
    this.state = StateStores.open(config.state(), config.economics(), Clock.systemUTC(), prometheus);
    this.accessControl = new AccessControl(state);
    cache.share(state.sharedAnswers()); // Redis: answers shared by every replica (else this process only)
    this.economics = new EconomicsRecorder(state.ledger(), state.usage(), state::usageSince, prometheus);
    this.events = metrics;
    this.sinks = RequestLogListener.of(java.util.List.of(metrics, economics, AccessLog.INSTANCE, listener));
    this.snapshot = new AtomicReference<>(initial);
    this.hint = new LocalModelHint(guards, () -> snapshot.get().config());
    this.transport = transport;
    this.group = new MultiThreadIoEventLoopGroup(
        threads > 0 ? threads : Runtime.getRuntime().availableProcessors(), transport.ioHandlerFactory());
    this.inProcess = new InProcessBackends(group, LlamaEngine::load);
    this.pools = new BackendPools(transport, inProcess::address);
    try {
      inProcess.apply(config.backends().values(), (b, up) -> guards.guard(b).healthy(up));
    } catch (RuntimeException | Error e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      tracing.close();
      throw e;
    }
    pools.retain(config.backends().values());
    bindProcessMetrics();
    bindInProcessMetrics(config);
  }

  /** Naming and help-text filters: set before any meter is registered (the state store registers some). */
  private void configureRegistry() {
    // keep the exposition clean for `promtool check metrics` (CI runs it on a real scrape): every
    // series gets help text; a binder name that breaks Prometheus naming rules is renamed or dropped
    prometheus.config()
        .meterFilter(MeterFilter.denyNameStartsWith("process.cpu.time")) // in ns: process_cpu_usage covers it
        .meterFilter(new MeterFilter() {
          @Override
          public Meter.Id map(Meter.Id id) {
            String name = switch (id.getName()) {
              case "system.cpu.count" -> "system.cpu.logical";
              default -> id.getName();
            };
            String description = id.getDescription() != null ? id.getDescription()
                : "Netty/JVM metric " + id.getName();
            return new Meter.Id(name, Tags.of(id.getTagsAsIterable()), id.getBaseUnit(), description, id.getType());
          }
        });
  }

  private void bindProcessMetrics() {
    new ClassLoaderMetrics().bindTo(prometheus);
    new JvmMemoryMetrics().bindTo(prometheus);
    new JvmGcMetrics().bindTo(prometheus);
    new JvmThreadMetrics().bindTo(prometheus);
    new ProcessorMetrics().bindTo(prometheus);
    new UptimeMetrics().bindTo(prometheus);
    new FileDescriptorMetrics().bindTo(prometheus);
    // the allocator every gateway channel uses (set on the bootstraps, Transport.ALLOCATOR)
    new NettyAllocatorMetrics((io.netty.buffer.ByteBufAllocatorMetricProvider) Transport.ALLOCATOR).bindTo(prometheus);
    new NettyEventExecutorMetrics(group).bindTo(prometheus);
    Gauge.builder("gateway.connections.active", connections, AtomicInteger::get)
        .description("Open client connections").register(prometheus);
    Gauge.builder("gateway.requests.in_flight", inFlight, AtomicInteger::get)
        .description("Proxied requests in flight").register(prometheus);
    metrics.bindBreakers(guards);
  }

  /**
   * Per in-process backend: sequences generating and requests waiting for one (gauges that follow a
   * reload: they read whichever model is loaded under the backend's name now).
   */
  private void bindInProcessMetrics(GatewayConfig config) {
    for (var b : config.backends().values()) {
      if (!b.isInProcess()) {
        continue;
      }
      String name = b.name();
      Gauge.builder("gateway.inprocess.sequences.active", inProcess,
              p -> p.server(name).map(InferenceServer::generating).orElse(0))
          .description("Sequences an in-process model is generating now").tag("backend", name).register(prometheus);
      Gauge.builder("gateway.inprocess.queue", inProcess, p -> p.server(name).map(InferenceServer::queued).orElse(0))
          .description("Requests waiting for a sequence of an in-process model").tag("backend", name)
          .register(prometheus);
    }
  }

  /** The metrics registry (Prometheus exposition at {@code GET /metrics}). */
  public PrometheusMeterRegistry meterRegistry() {
    return prometheus;
  }

  /**
   * Enables hot reload from a config directory ({@code POST /admin/reload}, and file changes once
   * quiet for {@code debounceMillis}; 0 disables watching). Call before {@link #start()}.
   */
  public GatewayServer reloadFrom(java.nio.file.Path dir, java.util.function.Supplier<java.util.Map<String, String>> env,
      long debounceMillis) {
    reloader = new ConfigReloader(dir, env, this, prometheus);
    if (debounceMillis > 0) {
      reloader.watch(debounceMillis);
    }
    return this;
  }

  /** Binds the listener; returns once it accepts connections. */
  public GatewayServer start() throws InterruptedException {
    GatewayConfig config = snapshot.get().config();
    health.apply(config);
    EconomicsEndpoints economicsEndpoints = new EconomicsEndpoints(economics, Clock.systemUTC());
    local = new LocalEndpoints(System.currentTimeMillis() / 1000, draining::get, guards,
        prometheus::scrape)
        .withState(state, state.kind().equals("redis") && !snapshot.get().config().state().failOpen())
        .withModelFailures(inProcess::failure);
    if (tracing.enabled()) {
      local.withOpenMetrics(prometheus::scrape);
    }
    admin = new AdminEndpoints(reloader, economicsEndpoints, guards, classifier).withAccess(accessControl);
    ServerBootstrap b = new ServerBootstrap()
        .group(group)
        .channel(transport.serverChannel())
        .option(ChannelOption.SO_BACKLOG, 1024)
        .option(ChannelOption.SO_REUSEADDR, true)
        .option(ChannelOption.ALLOCATOR, Transport.ALLOCATOR)
        .childOption(ChannelOption.ALLOCATOR, Transport.ALLOCATOR)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
        .childHandler(new GatewayChannelInitializer(snapshot::get,
            new ExchangeServices(pools, guards, events, accessControl, classifier, sinks, cache, hint, tracing), local,
            admin, inFlight, connections));
    vocabularies.join();
    serverChannel = b.bind(config.listener().host(), config.listener().port()).sync().channel();
    watchdog = new EventLoopWatchdog(group, prometheus); // once bound: a failed start leaves no thread behind
    LOG.info("gateway listening on http://{}:{} ({} transport, {} models)", config.listener().host(), port(),
        transport.name(), config.servableModels().size());
    // no local model up (no server answering, no model file loaded): one line saying how to give it one
    hint.announce(config, health::firstCheck, n -> inProcess.failure(n).orElse(null));
    return this;
  }

  /** The bound port (useful when the config asked for port 0). */
  public int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /** The exact response cache. */
  public dev.llmgw.core.cache.ResponseCache cache() {
    return cache;
  }

  public EconomicsRecorder economics() {
    return economics;
  }

  /** Rate-limit buckets and budget accounts (per key and team). */
  /** The classifier stage (semantic scores, judge) requests wait for off the event loops. */
  public TierClassifier classifier() {
    return classifier;
  }

  public AccessControl accessControl() {
    return accessControl;
  }

  public BackendGuards guards() {
    return guards;
  }

  /**
   * Publishes a new snapshot (built and validated elsewhere, off the event loops): requests that
   * already started keep the one they captured; new ones see this one. Listener, limits and the
   * ledger's bounds apply at the next restart.
   */
  public void apply(GatewaySnapshot next) {
    classifier.configure(next.router().classifierSettings());
    inProcess.apply(next.config().backends().values(), (b, up) -> guards.guard(b).healthy(up)); // loads first
    snapshot.set(next);
    health.apply(next.config());
    pools.retain(next.config().backends().values()); // changed or removed backends: old pools drained, closed
    bindInProcessMetrics(next.config());
  }

  public GatewaySnapshot snapshot() {
    return snapshot.get();
  }

  /** Stops accepting, gives in-flight requests {@code grace} to finish, then stops the event loops. */
  public void stop(Duration grace) {
    draining.set(true);
    if (serverChannel != null) {
      serverChannel.close().awaitUninterruptibly();
    }
    long deadline = System.nanoTime() + grace.toNanos();
    while (inFlight.get() > 0 && System.nanoTime() < deadline) {
      LockSupport.parkNanos(10_000_000L); // the stopping thread, never an event loop
    }
    if (inFlight.get() > 0) {
      LOG.warn("stopping with {} request(s) still in flight after the {} grace period", inFlight.get(), grace);
    }
    for (io.netty.util.concurrent.EventExecutor loop : group) {
      loop.submit(dev.llmgw.server.http.AccessLog::flushHere).awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
    health.close();
    if (reloader != null) {
      reloader.close();
    }
    if (admin != null) {
      admin.close();
    }
    if (local != null) {
      local.close();
    }
    pools.close();
    inProcess.close(Duration.ofMillis(Math.max(0, (deadline - System.nanoTime()) / 1_000_000)));
    classifier.close();
    if (watchdog != null) {
      watchdog.close(); // before the loops stop: a stopped loop is not a stalled one
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    state.close(); // after the loops: every settlement of a finished request is in
    tracing.close(); // after the loops too: the spans of the last requests are exported
  }

  /** The models run inside the gateway. */
  public InProcessBackends inProcess() {
    return inProcess;
  }

  /** The backend connection pools (tests: how many are open). */
  public BackendPools pools() {
    return pools;
  }

  /** Where money and limits are kept. */
  public StateStore state() {
    return state;
  }

  @Override
  public void close() {
    stop(Duration.ofSeconds(5));
  }
}
