package dev.llmgw.bench.jmh;

import dev.llmgw.core.log.RequestLog;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** {@link RequestLog#toLine}: the access-log line built on the event loop for every request. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class AccessLogBench {
  private RequestLog log;

  @Setup
  public void setup() {
    log = new RequestLog();
    log.requestId = "0f8e4c2a-6b1d-4e57-9a0c-3d2b1f7e6a54";
    log.remote = "127.0.0.1:53412";
    log.method = "POST";
    log.path = "/v1/chat/completions";
    log.status = 200;
    log.model = "bench-model";
    log.backend = "mock";
    log.bytesOut = 1048;
    log.firstByteNanos = log.startNanos + 412_000;
  }

  @Benchmark
  public String toLine() {
    return log.toLine();
  }
}
