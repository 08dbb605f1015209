package dev.llmgw.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.config.ConfigValuesAccess;
import dev.llmgw.core.economics.EconomicsRecorder;
import dev.llmgw.core.economics.EconomicsReport;
import dev.llmgw.core.economics.ReportJson;
import dev.llmgw.core.access.Identity;
import dev.llmgw.core.economics.WorkflowLedger;
import dev.llmgw.core.economics.WorkflowRecord;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;
import dev.llmgw.core.ingress.RequestParser;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The unit-economics endpoints:
 *
 * <ul>
 *   <li>{@code POST /v1/workflows/{id}/outcome} — the application reports how a workflow ended:
 *       {@code {"outcome":"accepted|repaired|rejected|abandoned","repair_minutes":12,"value":40.0}};
 *   <li>{@code GET /v1/workflows/{id}} — one workflow's running account;
 *   <li>{@code GET /admin/economics?window=24h} — the report per workflow type and per tier (it walks
 *       the ledger, so {@link AdminEndpoints} runs it on the admin thread).
 * </ul>
 */
public final class EconomicsEndpoints {
  static final String WORKFLOWS = "/v1/workflows/";
  static final String REPORT = "/admin/economics";
  /** Largest {@code value} an outcome may report, in US dollars (a finite number from 0). */
  public static final double MAX_VALUE_USD = 1e9;
  /** Largest {@code repair_minutes} an outcome may report: a year. */
  public static final double MAX_REPAIR_MINUTES = 525_600;

  private final EconomicsRecorder recorder;
  private final Clock clock;

  public EconomicsEndpoints(EconomicsRecorder recorder, Clock clock) {
    this.recorder = recorder;
    this.clock = clock;
  }

  static boolean owns(String path) {
    return path.startsWith(WORKFLOWS);
  }

  /** The report over {@code ?window=} (default and cap: the ledger's expiry); an admin-thread call. */
  byte[] report(String uri, GatewaySnapshot snapshot) {
    Duration window = window(uri, snapshot);
    long to = clock.millis();
    long from = to - window.toMillis();
    java.time.LocalDate fromDay = java.time.Instant.ofEpochMilli(from).atZone(java.time.ZoneOffset.UTC).toLocalDate();
    return json(EconomicsReport.of(recorder.ledger().since(from), recorder.usageSince(fromDay),
        snapshot.config().economics(), from, to));
  }

  /**
   * A workflow path: checks and reads the request now (on the event loop: the request is released
   * after) and gives the ledger work to run off the loop (a shared ledger waits for Redis), whose JSON
   * answer is 200 or a {@link GatewayException}. A caller sees only the workflows of its own namespace
   * (team, else key): another's answer 404, as if they did not exist.
   */
  java.util.function.Supplier<byte[]> prepare(FullHttpRequest req, String path, Identity identity) {
    String ns = WorkflowLedger.namespace(identity.keyName(), identity.team());
    String rest = path.substring(WORKFLOWS.length());
    if (rest.endsWith("/outcome")) {
      require(req, HttpMethod.POST, path);
      String id = decode(rest.substring(0, rest.length() - "/outcome".length()));
      Outcome o = parseOutcome(req);
      return () -> {
        if (!recorder.outcome(ns, id, o.outcome(), o.minutes(), o.value())) {
          throw unknownWorkflow(id);
        }
        return json(recorder.ledger().get(ns, id).orElseThrow(() -> unknownWorkflow(id)));
      };
    }
    require(req, HttpMethod.GET, path);
    String id = decode(rest);
    return () -> json(recorder.ledger().get(ns, id).orElseThrow(() -> unknownWorkflow(id)));
  }

  private record Outcome(WorkflowRecord.Outcome outcome, double minutes, double value) {}

  private static Outcome parseOutcome(FullHttpRequest req) {
    JsonNode body;
    try {
      body = RequestParser.JSON.readTree(new ByteBufInputStream(req.content().duplicate()));
    } catch (IOException e) {
      throw new GatewayException(GatewayError.malformedJson(e.getMessage()));
    }
    if (body == null || !body.isObject()) {
      throw new GatewayException(GatewayError.malformedJson("expected a JSON object"));
    }
    JsonNode o = body.get("outcome");
    if (o == null || o.isNull()) {
      throw new GatewayException(GatewayError.missingParam("outcome"));
    }
    WorkflowRecord.Outcome outcome;
    try {
      outcome = WorkflowRecord.Outcome.valueOf(o.asText().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new GatewayException(GatewayError.invalidValue("outcome", "Invalid 'outcome': '" + o.asText()
          + "' (expected one of: accepted, repaired, rejected, abandoned)."));
    }
    double minutes = number(body, "repair_minutes", 0, MAX_REPAIR_MINUTES);
    if (minutes > 0 && outcome != WorkflowRecord.Outcome.REPAIRED) {
      throw new GatewayException(GatewayError.invalidValue("repair_minutes",
          "'repair_minutes' is only meaningful with outcome 'repaired'."));
    }
    return new Outcome(outcome, minutes, number(body, "value", Double.NaN, MAX_VALUE_USD));
  }

  /**
   * A finite number from 0 to {@code max} (null or absent: {@code def}). A number too large for a double
   * ({@code 1e999}) reads as infinite and is refused as above the maximum: one caller must not be able to
   * make the report's sums infinite (null in JSON) or a Prometheus counter {@code +Inf}.
   */
  private static double number(JsonNode body, String field, double def, double max) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      return def;
    }
    if (!n.isNumber()) {
      throw new GatewayException(GatewayError.invalidType(field, "a number", describe(n)));
    }
    double d = n.asDouble();
    if (d < 0) {
      throw new GatewayException(GatewayError.belowMinimum(field, false, "0", n.asText()));
    }
    if (!(d <= max)) { // NaN and +Infinity too
      throw new GatewayException(GatewayError.aboveMaximum(field, false, plain(max), n.asText()));
    }
    return d;
  }

  private static String plain(double d) {
    return java.math.BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
  }

  private static String describe(JsonNode n) {
    return switch (n.getNodeType()) {
      case ARRAY -> "an array";
      case BOOLEAN -> "a boolean";
      case OBJECT, POJO -> "an object";
      case STRING, BINARY -> "a string";
      default -> "null";
    };
  }

  private static Duration window(String uri, GatewaySnapshot snapshot) {
    List<String> w = new QueryStringDecoder(uri).parameters().get("window");
    Duration max = snapshot.config().economics().expireAfter();
    if (w == null || w.isEmpty()) {
      return max;
    }
    try {
      Duration d = ConfigValuesAccess.duration(w.get(0));
      return d.compareTo(max) > 0 ? max : d;
    } catch (IllegalArgumentException e) {
      throw new GatewayException(GatewayError.invalidValue("window", "Invalid 'window': " + e.getMessage()));
    }
  }

  private static void require(FullHttpRequest req, HttpMethod method, String path) {
    if (!method.equals(req.method())) {
      throw new GatewayException(GatewayError.methodNotAllowed(req.method().name(), path, method.name()));
    }
  }

  private static GatewayException unknownWorkflow(String id) {
    return new GatewayException(GatewayError.workflowNotFound(RequestLogSafe.clip(id)));
  }

  private static String decode(String s) {
    return java.net.URLDecoder.decode(s, java.nio.charset.StandardCharsets.UTF_8);
  }

  private static byte[] json(Object o) {
    try {
      return ReportJson.MAPPER.writeValueAsBytes(o);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Echoing a client string back: capped. */
  private static final class RequestLogSafe {
    static String clip(String s) {
      return s.length() > 128 ? s.substring(0, 128) + "..." : s;
    }
  }
}
