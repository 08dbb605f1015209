package dev.llmgw.bench.jmh;

import java.nio.charset.StandardCharsets;

/** Request bodies shared by the benchmarks: a ~1 KB chat request (as bench/wrk sends) and a ~32 KB one. */
final class Bodies {
  private Bodies() {}

  static final String SYSTEM = "You are a concise assistant for a platform engineering team. Answer in plain "
      + "English, prefer short paragraphs, and when you are unsure say so instead of guessing. Quote "
      + "configuration keys exactly. Keep answers under 300 words unless asked for more.";

  /** ~1 KB: system prompt, two user turns and one assistant turn, the usual sampling parameters. */
  static byte[] small(String model) {
    return ("{\"model\":\"" + model + "\",\"messages\":["
        + "{\"role\":\"system\",\"content\":\"" + SYSTEM + "\"},"
        + "{\"role\":\"user\",\"content\":\"We run an HTTP gateway in front of several model servers. What does "
        + "connection pooling buy us, and what can go wrong with keep-alive connections to a backend?\"},"
        + "{\"role\":\"assistant\",\"content\":\"Pooling saves a TCP (and TLS) handshake per request. The classic "
        + "failure is a stale connection: the backend closed it while idle and the next request on it fails.\"},"
        + "{\"role\":\"user\",\"content\":\"How should the pool detect and handle a stale connection without "
        + "retrying requests that might not be idempotent? Give a short checklist we can put in our runbook, "
        + "and mention timeouts.\"}],"
        + "\"temperature\":0.2,\"top_p\":1,\"max_tokens\":512,\"user\":\"bench-user-0001\"}")
        .getBytes(StandardCharsets.UTF_8);
  }

  /** ~32 KB: a long conversation (40 turns of ~780 characters), as an agent or RAG client sends. */
  static byte[] large(String model) {
    StringBuilder sb = new StringBuilder(34 * 1024);
    sb.append("{\"model\":\"").append(model).append("\",\"messages\":[{\"role\":\"system\",\"content\":\"")
        .append(SYSTEM).append("\"}");
    String para = "The retrieval step returned this passage from the operations handbook: when a backend "
        + "answers with 429 or 503, the gateway waits for the Retry-After interval if one is given, otherwise "
        + "backs off exponentially with jitter, and never retries a request whose response has started. "
        + "Streams are relayed chunk by chunk; a client that reads slowly pauses the backend read instead of "
        + "growing a buffer. Idle pooled connections are closed before the backend's own keep-alive timeout. "
        + "Line breaks\\nand \\\"quotes\\\" and unicode \\u00e9 appear in real prompts too. ";
    for (int i = 0; i < 40; i++) {
      sb.append(",{\"role\":\"").append(i % 2 == 0 ? "user" : "assistant").append("\",\"content\":\"")
          .append(para).append(i).append("\"}");
    }
    sb.append("],\"temperature\":0.7,\"max_tokens\":1024,\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }
}
