package dev.llmgw.core.route;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.ModelAlias;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * Asks a configured model which tier a request belongs to: one non-streamed chat completion with
 * the policy's classification prompt as the system message and the request's segments as the user
 * message ({@code temperature: 0}, a few output tokens). The answer names a tier; anything else is
 * a failure. Asynchronous on the JDK's HTTP client (its own threads, never an event loop); the
 * provider key goes only into the {@code Authorization} header.
 */
final class JudgeClient {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** Made on the first judgement: a client has a selector thread, most gateways never judge. */
  private volatile HttpClient http;

  private HttpClient http() {
    HttpClient h = http;
    if (h == null) {
      synchronized (this) {
        h = http;
        if (h == null) {
          java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
          h = http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
              .version(HttpClient.Version.HTTP_1_1)
              // completions are handed on, never run long here: two threads, not a cached pool
              .executor(java.util.concurrent.Executors.newFixedThreadPool(2, r -> {
                Thread t = new Thread(r, "judge-http-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
              }))
              .build();
        }
      }
    }
    return h;
  }

  /**
   * @return the tier named, or a failed future (bad status, no tier in the answer, I/O)
   */
  CompletableFuture<String> judge(ModelAlias alias, BackendSpec backend, String prompt,
      String text, List<String> tiers, Duration timeout) {
    ObjectNode body = JSON.createObjectNode();
    body.put("model", alias.backendModel());
    ArrayNode messages = body.putArray("messages");
    messages.addObject().put("role", "system").put("content", prompt);
    messages.addObject().put("role", "user").put("content", "Request to classify:\n\"\"\"\n" + text
        + "\n\"\"\"\nTier (one of: " + String.join(", ", tiers) + "):");
    body.put("temperature", 0);
    body.put("max_tokens", 8);
    body.put("stream", false);
    URI base = backend.baseUrl();
    URI uri = URI.create(base.getScheme() + "://" + base.getRawAuthority() + backend.basePath()
        + "/chat/completions");
    HttpRequest.Builder req = HttpRequest.newBuilder(uri).timeout(timeout)
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes(body)));
    backend.providerKey().ifPresent(key -> req.header("authorization", "Bearer " + key));
    return http().sendAsync(req.build(), HttpResponse.BodyHandlers.ofByteArray())
        .thenApply(r -> {
          if (r.statusCode() != 200) {
            throw new IllegalStateException("judge answered HTTP " + r.statusCode());
          }
          String answer;
          try {
            JsonNode root = JSON.readTree(r.body());
            answer = root.path("choices").path(0).path("message").path("content").asText("");
          } catch (java.io.IOException e) {
            throw new IllegalStateException("judge answer is not JSON");
          }
          String tier = tierIn(answer, tiers);
          if (tier == null) {
            throw new IllegalStateException("judge named no tier");
          }
          return tier;
        });
  }

  /** The tier an answer names: the longest tier name it contains (case-insensitive), or null. */
  static String tierIn(String answer, List<String> tiers) {
    String a = answer.toLowerCase(Locale.ROOT);
    return tiers.stream().sorted(Comparator.comparingInt(String::length).reversed())
        .filter(t -> a.contains(t.toLowerCase(Locale.ROOT))).findFirst().orElse(null);
  }

  private static byte[] bytes(ObjectNode body) {
    try {
      return JSON.writeValueAsBytes(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
