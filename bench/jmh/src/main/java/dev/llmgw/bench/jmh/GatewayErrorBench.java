package dev.llmgw.bench.jmh;

import dev.llmgw.core.error.GatewayError;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** {@link GatewayError#toJsonBytes}: the OpenAI error body written for every refused request. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class GatewayErrorBench {
  private final GatewayError notFound = GatewayError.modelNotFound("gpt-5-nonexistent", null);

  /** A pre-built error (the common case: the factory ran where the failure was found). */
  @Benchmark
  public byte[] toJsonBytes() {
    return notFound.toJsonBytes();
  }

  /** Factory + serialisation, as a 404 for an unknown model costs. */
  @Benchmark
  public byte[] createAndSerialize() {
    return GatewayError.missingParam("messages").toJsonBytes();
  }
}
