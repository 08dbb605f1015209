package dev.llmgw.core.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.core.api.Endpoint;
import dev.llmgw.core.ingress.ParsedRequest;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The cache key of a request: SHA-256 over its canonical form —
 *
 * <ul>
 *   <li>the endpoint, the scope (the team, or the key without a team, under {@code scope: team}),
 *   <li>the model after aliasing and routing: the primary candidate's alias, backend and backend model,
 *   <li>the response's shape: stream or not, usage chunk asked for or not, an output bound the gateway adds,
 *   <li>every other body field (messages, tools, sampling parameters, response format, ...) with object keys
 *       sorted and numbers in one notation ({@code 0}, {@code 0.0} and {@code 0e0} are the same value),
 * </ul>
 *
 * <p>leaving out only what does not change the answer: {@code model} (replaced by the routed one),
 * {@code stream} and {@code stream_options} (part of the shape above), {@code metadata}, {@code user}
 * and {@code store}. Never a header, the gateway key or a credential.
 */
public final class CacheKey {
  private static final Set<String> LEFT_OUT = Set.of("model", "stream", "stream_options", "metadata", "user",
      "store");
  private static final byte SEP = '\n';

  private CacheKey() {}

  /**
   * @param scope the team (or key) name under a per-team cache, else null
   * @return 64 hex digits
   */
  public static String of(ParsedRequest request, String scope, String alias, String backend, String backendModel) {
    StringBuilder head = new StringBuilder(160).append("llmgw-cache-v1").append(SEP)
        .append(request.endpoint().metricName()).append(SEP)
        .append(scope == null ? "*" : "scope:" + scope).append(SEP)
        .append(alias).append(SEP).append(backend).append(SEP).append(backendModel).append(SEP)
        .append(request.stream() ? "stream" : "plain").append(request.clientAskedForUsage() ? "+usage" : "")
        .append(SEP).append(request.outputBound()).append(SEP);
    StringBuilder body = new StringBuilder(256);
    canonical(request.json(), body, true);
    MessageDigest sha = sha256();
    sha.update(head.toString().getBytes(StandardCharsets.UTF_8));
    sha.update(body.toString().getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(sha.digest());
  }

  /**
   * Whether the answer is reproducible: {@code temperature} 0 or an integer {@code seed} (embeddings always).
   * A request without a temperature samples at the API's default (1): not deterministic.
   */
  public static boolean deterministic(ParsedRequest request) {
    if (request.endpoint() == Endpoint.EMBEDDINGS) {
      return true;
    }
    ObjectNode json = request.json();
    JsonNode t = json.get("temperature");
    if (t != null && t.isNumber() && t.decimalValue().signum() == 0) {
      return true;
    }
    JsonNode seed = json.get("seed");
    return seed != null && seed.isIntegralNumber();
  }

  /** Appends a value in canonical form: sorted keys, one number notation, JSON-escaped strings. */
  static void canonical(JsonNode n, StringBuilder out, boolean top) {
    if (n.isObject()) {
      List<String> names = new ArrayList<>();
      for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
        String name = it.next();
        if (!top || !LEFT_OUT.contains(name)) {
          names.add(name);
        }
      }
      names.sort(null);
      out.append('{');
      for (int i = 0; i < names.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        string(names.get(i), out);
        out.append(':');
        canonical(n.get(names.get(i)), out, false);
      }
      out.append('}');
    } else if (n.isArray()) {
      out.append('[');
      for (int i = 0; i < n.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        canonical(n.get(i), out, false);
      }
      out.append(']');
    } else if (n.isNumber()) {
      BigDecimal d = n.decimalValue();
      out.append(d.signum() == 0 ? "0" : d.stripTrailingZeros().toString());
    } else if (n.isTextual()) {
      string(n.textValue(), out);
    } else {
      out.append(n.toString()); // true, false, null
    }
  }

  private static void string(String s, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    out.append('"');
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
