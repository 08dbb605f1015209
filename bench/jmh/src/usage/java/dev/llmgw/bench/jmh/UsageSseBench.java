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
 * The usage tap over one whole streamed chat completion, as {@code ProxyExchange} drives it: a tap per
 * response, every chunk through {@code onChunk}, the last through {@code onLastChunk}, each forwarded
 * buffer released as the client write would, then {@code usage()} (and, when the backend sent none,
 * {@code generatedText()} for the estimate) and {@code release()}. Score = time per response.
 *
 * <ul>
 *   <li>{@code events}: content events in the stream (OpenAI-shaped {@code chat.completion.chunk}, ~390
 *       bytes each, as gpt-4.1 sends them with {@code include_usage}), plus a role, a finish, the usage-only
 *       event and {@code [DONE]}.</li>
 *   <li>{@code framing}: {@code event} one event per chunk (a paced stream); {@code half} every event cut in
 *       two chunks at its middle (each event held across a chunk boundary when stripping); {@code reads}
 *       fixed 1,000-byte reads regardless of the events (several events per chunk, events cut anywhere).</li>
 *   <li>{@code usage}: {@code asked} the client asked for usage (nothing stripped); {@code strip} it did
 *       not: the usage-only event the gateway injected is removed; {@code none} the backend sent no usage
 *       (stripping on, as always when the gateway injected the option) and the generated text is read for
 *       an estimate.</li>
 * </ul>
 *
 * <p>The chunks are retained duplicates of pooled direct buffers built once (the tap owns and releases
 * each, as it does the decoder's), so the score is the tap's work, not a copy. The tear-down checks that
 * the tap released every one.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class UsageSseBench {

  @Param({"20", "200"})
  public int events;

  @Param({"event", "half", "reads"})
  public String framing;

  @Param({"asked", "strip", "none"})
  public String usage;

  private ByteBuf[] chunks;
  private boolean strip;
  private final List<ByteBuf> out = new ArrayList<>(4);

  @Setup(Level.Trial)
  public void setup() {
    strip = !"asked".equals(usage);
    byte[] stream = Streams.chatStream(events, !"none".equals(usage));
    int[] cuts = switch (framing) {
      case "event" -> Streams.eventEnds(stream, false);
      case "half" -> Streams.eventEnds(stream, true);
      case "reads" -> Streams.fixedReads(stream.length, 1000);
      default -> throw new IllegalArgumentException(framing);
    };
    chunks = new ByteBuf[cuts.length];
    int from = 0;
    for (int i = 0; i < cuts.length; i++) {
      chunks[i] = PooledByteBufAllocator.DEFAULT.directBuffer(cuts[i] - from).writeBytes(stream, from, cuts[i] - from);
      from = cuts[i];
    }
    Object r = run();
    if ("none".equals(usage) ? ((Integer) r) == 0 : r == null) {
      throw new IllegalStateException("the tap read nothing from the " + usage + " stream");
    }
  }

  @Benchmark
  public Object run() {
    UsageTap tap = UsageTap.forEventStream(strip, 1024 * 1024);
    int last = chunks.length - 1;
    for (int i = 0; i < last; i++) {
      tap.onChunk(chunks[i].retainedDuplicate(), out);
      drain();
    }
    tap.onLastChunk(chunks[last].retainedDuplicate(), out);
    drain();
    Object result = tap.usage();
    if (result == null) {
      result = tap.generatedText().length(); // what ProxyExchange estimates from
    }
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

  /** OpenAI-shaped streamed chat completions, and ways to cut them into chunks. */
  static final class Streams {
    private Streams() {}

    private static final String PREFIX = "data: {\"id\":\"chatcmpl-BxH2sQ7cW1YwJ3kq9o1bqDq5Zl7sT\","
        + "\"object\":\"chat.completion.chunk\",\"created\":1753880512,\"model\":\"gpt-4.1-mini-2025-04-14\","
        + "\"service_tier\":\"default\",\"system_fingerprint\":\"fp_6f2eabb9a5\",\"choices\":";
    private static final String[] WORDS = ("Connection pooling keeps a small set of established TCP connections"
        + " to each backend and hands them out to requests, so that the cost of the three-way handshake and,"
        + " for TLS, of the key \\\"exchange\\\" is paid once per connection rather than once per request.\\n")
        .split("(?= )");

    /** A role event, {@code n} content events, a finish event, the usage-only event if asked, {@code [DONE]}. */
    static byte[] chatStream(int n, boolean withUsage) {
      StringBuilder s = new StringBuilder(n * 420 + 1024);
      s.append(PREFIX).append("[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},"
          + "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null,\"obfuscation\":\"2pZ\"}\n\n");
      for (int i = 0; i < n; i++) {
        s.append(PREFIX).append("[{\"index\":0,\"delta\":{\"content\":\"").append(WORDS[i % WORDS.length])
            .append("\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null,\"obfuscation\":\"")
            .append("Xq1".substring(0, 1 + i % 3)).append("\"}\n\n");
      }
      s.append(PREFIX).append("[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
          + "\"usage\":null,\"obfuscation\":\"k\"}\n\n");
      if (withUsage) {
        s.append(PREFIX).append("[],\"usage\":{\"prompt_tokens\":1117,\"completion_tokens\":").append(n)
            .append(",\"total_tokens\":").append(1117 + n).append(",\"prompt_tokens_details\":{\"cached_tokens\":1024,"
                + "\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
                + "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}},\"obfuscation\":\"vZ3\"}\n\n");
      }
      s.append("data: [DONE]\n\n");
      return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The end of every event (after its blank line); with {@code halves}, also the middle of each. */
    static int[] eventEnds(byte[] stream, boolean halves) {
      List<Integer> cuts = new ArrayList<>();
      int start = 0;
      for (int i = 1; i < stream.length; i++) {
        if (stream[i] == '\n' && stream[i - 1] == '\n') {
          if (halves) {
            cuts.add((start + i + 1) / 2);
          }
          cuts.add(i + 1);
          start = i + 1;
        }
      }
      return cuts.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Reads of {@code size} bytes (the last one shorter). */
    static int[] fixedReads(int length, int size) {
      int n = (length + size - 1) / size;
      int[] cuts = new int[n];
      for (int i = 0; i < n; i++) {
        cuts[i] = Math.min(length, (i + 1) * size);
      }
      return cuts;
    }
  }
}
