package dev.llmgw.bench.jmh;

import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.ConfigException;
import dev.llmgw.core.config.ConfigLoader;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.route.Route;
import dev.llmgw.core.upstream.UpstreamRequests;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.FullHttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * {@link UpstreamRequests#build}: the request sent to a backend. {@code rewrite=true} is the alias →
 * backend-model case (a shallow copy of the tree re-serialised into a pooled buffer), {@code false}
 * forwards a retained duplicate of the client's bytes. The built request is released (as the
 * encoder would) so that the pool is exercised, not grown.
 *
 * <p>The route comes from a real config (loaded through {@link ConfigLoader}), so the benchmark does not
 * depend on the config records' constructors.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class UpstreamRequestsBench {

  @Param({"true", "false"})
  public boolean rewrite;

  @Param({"1KB"})
  public String size;

  private Route route;
  private ParsedRequest parsed;
  private ByteBuf body;
  private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

  @Setup
  public void setup() throws Exception {
    String yaml = """
        listener: {host: 127.0.0.1, port: 0}
        backends:
          mock:
            baseUrl: http://127.0.0.1:18091/v1
            models: [mock-model, bench-same]
        models:
          bench-model: {backend: mock, model: mock-model}
          bench-same: {backend: mock, model: bench-same}
        """;
    GatewayConfig config;
    try {
      config = load(yaml);
    } catch (ConfigException e) {
      if (!String.valueOf(e.getMessage()).contains("auth")) {
        throw e;
      }
      config = load(yaml + "auth: {open: true}\n"); // gateways with client auth insist on the section
    }
    String alias = rewrite ? "bench-model" : "bench-same";
    ModelAlias a = config.models().get(alias);
    BackendSpec backend = config.backendOf(a);
    route = new Route(a, backend);
    byte[] b = "1KB".equals(size) ? Bodies.small(alias) : Bodies.large(alias);
    body = Unpooled.unreleasableBuffer(Unpooled.directBuffer(b.length).writeBytes(b));
    parsed = RequestParser.parse(Endpoint.CHAT_COMPLETIONS, new ByteBufInputStream(body.duplicate()));
  }

  private static GatewayConfig load(String yaml) throws Exception {
    Path dir = Files.createTempDirectory("jmh-config");
    Path file = dir.resolve("gateway.yaml");
    Files.writeString(file, yaml);
    try {
      return ConfigLoader.load(file, Map.of());
    } finally {
      Files.delete(file);
      Files.delete(dir);
    }
  }

  @Benchmark
  public int build() {
    FullHttpRequest r = UpstreamRequests.build(route, parsed, body, "req-0123456789abcdef", alloc);
    int n = r.content().readableBytes() + r.headers().size();
    r.release();
    return n;
  }
}
