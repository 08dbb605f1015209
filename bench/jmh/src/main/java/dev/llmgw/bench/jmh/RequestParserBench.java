package dev.llmgw.bench.jmh;

import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.ingress.RequestParser;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
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
 * {@link RequestParser#parse} as the client handler calls it: a {@link ByteBufInputStream} over a
 * duplicate of the aggregated body (Jackson tree + validation of model, stream, messages[].role).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RequestParserBench {

  @Param({"1KB", "32KB"})
  public String size;

  private ByteBuf body;

  @Setup
  public void setup() {
    byte[] b = "1KB".equals(size) ? Bodies.small("bench-model") : Bodies.large("bench-model");
    body = Unpooled.unreleasableBuffer(Unpooled.directBuffer(b.length).writeBytes(b));
    RequestParser.parse(Endpoint.CHAT_COMPLETIONS, new ByteBufInputStream(body.duplicate())); // fail fast
  }

  @Benchmark
  public ParsedRequest parse() {
    return RequestParser.parse(Endpoint.CHAT_COMPLETIONS, new ByteBufInputStream(body.duplicate()));
  }
}
