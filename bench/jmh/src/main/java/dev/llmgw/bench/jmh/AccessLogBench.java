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
    long start = System.nanoTime();
    dev.llmgw.core.log.RequestLogBuilder b = new dev.llmgw.core.log.RequestLogBuilder(start,
        "0f8e4c2a-6b1d-4e57-9a0c-3d2b1f7e6a54", "POST", "/v1/chat/completions", "127.0.0.1:53412",
        dev.llmgw.core.log.RequestLogListener.NOOP);
    b.request("chat_completions", "bench-model", false).attemptStarted("mock", "bench-model", null, start + 100_000)
        .responseStarted(200, start + 412_000).bytesOut(1048);
    b.end(dev.llmgw.core.log.Outcome.SERVED);
    log = b.log();
  }

  @Benchmark
  public String toLine() {
    return log.toLine();
  }
}
