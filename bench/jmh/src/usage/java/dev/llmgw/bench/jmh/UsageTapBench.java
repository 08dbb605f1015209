package dev.llmgw.bench.jmh;

import dev.llmgw.core.usage.TokenUsage;
import dev.llmgw.core.usage.UsageTap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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
 * The SSE scanner / usage tap ({@link UsageTap}) over one whole response, as relayed chunk by chunk:
 * {@code sse} is the mock backend's stream (20 {@code chat.completion.chunk} events, one per chunk, the
 * last with {@code usage}, then {@code [DONE]}), {@code sse-strip} the same with the usage-only event
 * removed (a client that did not ask for usage), {@code json} the ~1 KB non-streamed completion in two
 * chunks. Score = time per response; the chunks are copied from pooled buffers each time (as the
 * HTTP decoder would hand them over) and released after, as the client write would.
 *
 * <p>Compiled only when gateway-core has the usage tap (Maven profile in bench/jmh/pom.xml).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class UsageTapBench {

  /** json: a completion in two chunks (the token walk); json-whole: in one (the usage-only read). */
  @Param({"sse", "sse-strip", "json", "json-whole"})
  public String kind;

  private byte[][] chunks;
  private final List<ByteBuf> out = new ArrayList<>(4);
  private final PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

  @Setup
  public void setup() {
    if ("json-whole".equals(kind)) {
      chunks = new byte[][] {Responses.completion()};
    } else if ("json".equals(kind)) {
      byte[] body = Responses.completion();
      int half = body.length / 2;
      chunks = new byte[][] {java.util.Arrays.copyOfRange(body, 0, half),
          java.util.Arrays.copyOfRange(body, half, body.length)};
    } else {
      chunks = Responses.streamEvents();
    }
    if (run() == null) {
      throw new IllegalStateException("the tap found no usage in the " + kind + " response");
    }
  }

  @Benchmark
  public TokenUsage run() {
    UsageTap tap = switch (kind) {
      case "sse" -> UsageTap.forEventStream(false, 1024 * 1024);
      case "sse-strip" -> UsageTap.forEventStream(true, 1024 * 1024);
      default -> UsageTap.forJson();
    };
    for (int i = 0; i < chunks.length; i++) {
      ByteBuf b = alloc.directBuffer(chunks[i].length).writeBytes(chunks[i]);
      if (i == chunks.length - 1) {
        tap.onLastChunk(b, out); // as the relay feeds the body's last chunk
      } else {
        tap.onChunk(b, out);
      }
      drain();
    }
    return tap.usage();
  }

  private void drain() {
    for (int i = 0; i < out.size(); i++) {
      out.get(i).release();
    }
    out.clear();
  }

  /** The mock backend's bodies (bench/mock-backend MockBackend), kept in step by hand. */
  static final class Responses {
    private Responses() {}

    static byte[] completion() {
      String content = "Connection pooling keeps a small set of established TCP connections to each backend "
          + "and hands them out to requests, so that the cost of the three-way handshake and, for TLS, of the "
          + "key exchange is paid once per connection rather than once per request. A good pool bounds the "
          + "number of connections per backend, evicts idle ones before the server closes them, checks a "
          + "connection's health cheaply when it is borrowed, and retries a request once on a fresh "
          + "connection when a reused one turns out to be stale. With keep-alive on both sides, a proxy adds "
          + "little more than the cost of parsing and writing each message.";
      return ("{\"id\":\"chatcmpl-bench0000000000000000000001\",\"object\":\"chat.completion\","
          + "\"created\":1735689600,\"model\":\"mock-model\",\"system_fingerprint\":\"fp_bench\","
          + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + content
          + "\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
          + "\"usage\":{\"prompt_tokens\":231,\"completion_tokens\":118,\"total_tokens\":349,"
          + "\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}}")
          .getBytes(StandardCharsets.UTF_8);
    }

    static byte[][] streamEvents() {
      String prefix = "data: {\"id\":\"chatcmpl-bench0000000000000000000001\",\"object\":\"chat.completion.chunk\","
          + "\"created\":1735689600,\"model\":\"mock-model\",\"system_fingerprint\":\"fp_bench\",\"choices\":";
      String[] words = {"Connection", " pooling", " keeps", " a", " small", " set", " of", " established",
          " connections", " to", " each", " backend", " and", " hands", " them", " out", " to"};
      List<String> events = new ArrayList<>();
      events.add(prefix + "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
          + "\"finish_reason\":null}]}\n\n");
      for (String w : words) {
        events.add(prefix + "[{\"index\":0,\"delta\":{\"content\":\"" + w + "\"},\"logprobs\":null,"
            + "\"finish_reason\":null}]}\n\n");
      }
      events.add(prefix + "[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n");
      events.add(prefix + "[],\"usage\":{\"prompt_tokens\":231,\"completion_tokens\":17,\"total_tokens\":248}}\n\n");
      events.add("data: [DONE]\n\n");
      byte[][] out = new byte[events.size()][];
      for (int i = 0; i < out.length; i++) {
        out[i] = events.get(i).getBytes(StandardCharsets.UTF_8);
      }
      return out;
    }
  }
}
