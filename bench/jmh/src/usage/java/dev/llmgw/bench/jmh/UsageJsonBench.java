package dev.llmgw.bench.jmh;

import dev.llmgw.core.usage.UsageTap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The usage tap over one non-streamed chat completion body, as {@code ProxyExchange} drives it (a tap
 * per response, {@code onChunk} for each chunk but the last, {@code onLastChunk}, {@code malformed()},
 * {@code usage()}, {@code release()}). Score = time per response.
 *
 * <ul>
 *   <li>{@code size}: {@code 2k} a ~2 KB completion; {@code 64k} a ~64 KB one (a long generated answer
 *       with escapes); both with the top-level {@code usage} last, as OpenAI sends it.</li>
 *   <li>{@code framing}: {@code whole} the body in one chunk (read with the skip-to-usage parser);
 *       {@code reads} in chunks of at most 8 KiB, the HTTP decoder's chunk size, and at least two (the
 *       token-by-token walk).</li>
 * </ul>
 *
 * <p>The chunks are retained duplicates of pooled direct buffers built once; the tear-down checks that
 * the tap released every one.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class UsageJsonBench {

  @Param({"2k", "64k"})
  public String size;

  @Param({"whole", "reads"})
  public String framing;

  private ByteBuf[] chunks;
  private final List<ByteBuf> out = new ArrayList<>(2);

  @Setup(Level.Trial)
  public void setup() {
    byte[] body = completion("2k".equals(size) ? 2 * 1024 : 64 * 1024);
    int read = "whole".equals(framing) ? body.length : Math.min(8192, (body.length + 1) / 2);
    int n = (body.length + read - 1) / read;
    chunks = new ByteBuf[n];
    for (int i = 0; i < n; i++) {
      int from = i * read;
      int len = Math.min(read, body.length - from);
      chunks[i] = PooledByteBufAllocator.DEFAULT.directBuffer(len).writeBytes(body, from, len);
    }
    if (run() == null) {
      throw new IllegalStateException("the tap read no usage from the " + size + " body");
    }
  }

  @Benchmark
  public Object run() {
    UsageTap tap = UsageTap.forJson();
    int last = chunks.length - 1;
    for (int i = 0; i < last; i++) {
      tap.onChunk(chunks[i].retainedDuplicate(), out);
      drain();
    }
    tap.onLastChunk(chunks[last].retainedDuplicate(), out);
    drain();
    Object result = tap.malformed() ? null : tap.usage();
    tap.release();
    return result;
  }

  private void drain() {
    for (int i = 0; i < out.size(); i++) {
      out.get(i).release();
    }
    out.clear();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (ByteBuf c : chunks) {
      if (c.refCnt() != 1) {
        throw new IllegalStateException("a chunk's reference count is " + c.refCnt() + ", not 1: the tap leaked");
      }
      c.release();
    }
  }

  /** A chat.completion of about {@code bytes} bytes: one choice whose content fills it, then usage. */
  static byte[] completion(int bytes) {
    String head = "{\n  \"id\": \"chatcmpl-BxH2sQ7cW1YwJ3kq9o1bqDq5Zl7sT\",\n  \"object\": \"chat.completion\",\n"
        + "  \"created\": 1753880512,\n  \"model\": \"gpt-4.1-mini-2025-04-14\",\n  \"choices\": [\n    {\n"
        + "      \"index\": 0,\n      \"message\": {\n        \"role\": \"assistant\",\n        \"content\": \"";
    String tail = "\",\n        \"refusal\": null,\n        \"annotations\": []\n      },\n      \"logprobs\": null,\n"
        + "      \"finish_reason\": \"stop\"\n    }\n  ],\n  \"usage\": {\n    \"prompt_tokens\": 1117,\n"
        + "    \"completion_tokens\": " + bytes / 5 + ",\n    \"total_tokens\": " + (1117 + bytes / 5) + ",\n"
        + "    \"prompt_tokens_details\": {\n      \"cached_tokens\": 1024,\n      \"audio_tokens\": 0\n    },\n"
        + "    \"completion_tokens_details\": {\n      \"reasoning_tokens\": 0,\n      \"audio_tokens\": 0,\n"
        + "      \"accepted_prediction_tokens\": 0,\n      \"rejected_prediction_tokens\": 0\n    }\n  },\n"
        + "  \"service_tier\": \"default\",\n  \"system_fingerprint\": \"fp_6f2eabb9a5\"\n}\n";
    String para = "Connection pooling keeps a small set of established TCP connections to each backend and hands "
        + "them out to requests, so that the handshake is paid once per connection.\\n\\nA \\\"stale\\\" connection "
        + "is one the backend closed while idle; caf\\u00e9 \u2615 the pool evicts it before reuse. ";
    StringBuilder s = new StringBuilder(bytes + 512).append(head);
    while (s.length() + tail.length() + para.length() < bytes) {
      s.append(para);
    }
    return s.append(tail).toString().getBytes(StandardCharsets.UTF_8);
  }
}
