package dev.llmgw.server.ops;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.server.GatewayServer;
import dev.llmgw.testkit.TestConfigs;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SRE artifacts shipped in {@code ops/} checked with {@code promtool} (Debian package {@code prometheus}):
 * the alerting and recording rules parse and their unit tests pass; every PromQL expression of the Grafana
 * dashboard parses once its template variables are substituted; a real scrape of a running gateway passes
 * {@code promtool check metrics}, keeps label values bounded, and contains (or declares) every metric the
 * rules and the dashboard read.
 */
class OpsArtifactsIT {
  /** Tests run in the gateway-server module directory; the repository root is its parent. */
  static final Path ROOT = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent();
  static final Path PROMETHEUS_DIR = ROOT.resolve("ops/prometheus");
  static final Path DASHBOARD = ROOT.resolve("ops/grafana/llm-gateway.json");
  static final ObjectMapper JSON = new ObjectMapper();
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** Values substituted for Grafana's built-in variables before parsing; the dashboard's own become ".*". */
  static final Map<String, String> BUILT_IN_VARIABLES = Map.of(
      "__rate_interval", "5m", "__interval", "1m", "__range", "6h", "__range_s", "21600",
      "__range_ms", "21600000", "__interval_ms", "60000", "__rate_interval_ms", "300000");
  static final Pattern VARIABLE = Pattern.compile("\\$\\{(\\w+)(?::[^}]*)?}|\\[\\[(\\w+)(?::[^]]*)?]]|\\$(\\w+)");

  /**
   * Metrics the rules and dashboard may read that a short test run does not produce: counters the gateway
   * creates on their first event (fallbacks, skips, failures, ...), the unit-economics metrics, and JVM GC
   * pauses (none until a collection happens). Every other metric they read must be in the real scrape.
   */
  static final Set<String> CREATED_ON_FIRST_EVENT = Set.of(
      "gateway_fallbacks_total", "gateway_backend_skipped_total", "gateway_backend_failures_total",
      "gateway_retries_total", "gen_ai_client_token_usage_total", "gateway_cost_usd_total",
      "gateway_route_decisions_total", "gateway_config_reloads_total", "gateway_workflow_outcomes_total",
      "gateway_workflow_repair_minutes_total", "jvm_gc_pause_seconds_sum", "jvm_gc_pause_seconds_count",
      // the classifier's meters: made when a request first reaches a semantic or judge condition
      // (ClassifierIT checks their names on a real scrape)
      "gateway_classifier_fallbacks_total", "gateway_classifier_duration_seconds_bucket",
      "gateway_classifier_second_opinions_total",
      // savings: made on the first request whose baseline cost is known (a routing policy with prices)
      "gateway_savings_actual_usd_total", "gateway_savings_baseline_usd_total",
      // the response cache's counters: made on the first request of a cached model (CacheIT checks their names)
      "gateway_cache_requests_total", "gateway_cache_saved_usd_total",
      // the redis store's own meters (SharedStateIT checks their names on a real scrape)
      "gateway_state_replay_pending", "gateway_state_local_admissions_total", "gateway_state_refused_total");
  static final Pattern METRIC_PREFIXES =
      Pattern.compile("(?<![\\w:])(?:gateway|gen_ai|resilience4j|jvm|netty|process|system)_\\w*(?![\\w:])");

  @TempDir
  Path tmp;

  // ------------------------------------------------------------------------------------------ rules

  @Test
  void alertingAndRecordingRulesPassPromtoolCheckRules() {
    List<String> args = new ArrayList<>(List.of("check", "rules"));
    ruleFiles().forEach(f -> args.add(ROOT.relativize(f).toString()));
    assertThat(args).as("rule files in %s", PROMETHEUS_DIR).hasSizeGreaterThanOrEqualTo(4);
    Result r = promtool(args, null);
    assertSucceeded(r);
    assertThat(r.output).contains("SUCCESS").doesNotContain("FAILED");
  }

  @Test
  void ruleUnitTestsPass() {
    Result r = promtool(List.of("test", "rules", "ops/prometheus/alerts_test.yml"), null);
    assertSucceeded(r);
    assertThat(r.output).contains("SUCCESS");
  }

  @Test
  void theRequiredAlertsExistWithSeverityAndRunbookAndTheirUnitTestsCoverFiringAndNotFiring() throws IOException {
    Map<String, JsonNode> alerts = new LinkedHashMap<>();
    for (JsonNode group : YAML.readTree(PROMETHEUS_DIR.resolve("alerts.yml").toFile()).path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        if (rule.has("alert")) {
          alerts.put(rule.get("alert").asText(), rule);
        }
      }
    }
    assertThat(alerts).containsKeys("LlmGatewayHighFallbackRate", "LlmGatewayCircuitBreakerOpen",
        "LlmGatewayHighErrorRate", "LlmGatewayHighLatencyP99", "LlmGatewayHighTimeToFirstTokenP99",
        "LlmGatewaySpendRateHigh", "LlmGatewayConfigReloadRefused", "LlmGatewayProviderAuthFailure",
        "LlmGatewayBackendUnavailable", "LlmGatewayStreamErrors");
    String runbook = Files.readString(ROOT.resolve("docs/operations.md"));
    alerts.forEach((name, rule) -> {
      assertThat(rule.path("labels").path("severity").asText()).as(name).isIn("critical", "warning");
      assertThat(rule.path("annotations").path("summary").asText()).as(name).isNotBlank();
      assertThat(rule.path("annotations").path("description").asText()).as(name)
          .contains("docs/operations.md#" + name.toLowerCase());
      assertThat(runbook).as("docs/operations.md has a runbook section for %s", name).contains("### " + name);
    });
    assertThat(alerts.get("LlmGatewayCircuitBreakerOpen").path("for").asText()).isEqualTo("1m");

    // each of these alerts is tested both firing and not firing
    Map<String, int[]> firingAndQuiet = new LinkedHashMap<>();
    for (JsonNode test : YAML.readTree(PROMETHEUS_DIR.resolve("alerts_test.yml").toFile()).path("tests")) {
      for (JsonNode t : test.path("alert_rule_test")) {
        int[] counts = firingAndQuiet.computeIfAbsent(t.path("alertname").asText(), k -> new int[2]);
        counts[t.path("exp_alerts").isEmpty() ? 1 : 0]++;
      }
    }
    for (String name : List.of("LlmGatewayCircuitBreakerOpen", "LlmGatewayHighFallbackRate",
        "LlmGatewayConfigReloadRefused")) {
      assertThat(firingAndQuiet).as("unit tests of %s", name).containsKey(name);
      assertThat(firingAndQuiet.get(name)[0]).as("unit tests with %s firing", name).isPositive();
      assertThat(firingAndQuiet.get(name)[1]).as("unit tests with %s not firing", name).isPositive();
    }
  }

  // ------------------------------------------------------------------------------------------ dashboard

  @Test
  void dashboardIsAnImportableGrafanaDashboard() throws IOException {
    JsonNode d = JSON.readTree(DASHBOARD.toFile());
    assertThat(d.path("schemaVersion").asInt()).isBetween(36, 41);
    assertThat(d.path("uid").asText()).isNotBlank();
    assertThat(d.path("__inputs").findValuesAsText("name")).contains("DS_PROMETHEUS");
    List<String> variables = d.path("templating").path("list").findValuesAsText("name");
    assertThat(variables).contains("tier", "backend");

    Set<Integer> ids = new LinkedHashSet<>();
    for (JsonNode p : d.path("panels")) {
      assertThat(ids.add(p.path("id").asInt())).as("panel id %s is unique", p.path("id")).isTrue();
      if (p.path("type").asText().equals("row")) {
        continue;
      }
      String title = p.path("title").asText();
      assertThat(p.path("datasource").path("uid").asText()).as(title).isEqualTo("${DS_PROMETHEUS}");
      assertThat(p.path("targets")).as(title).isNotEmpty();
      for (JsonNode t : p.path("targets")) {
        assertThat(t.path("expr").asText()).as(title).isNotBlank();
        assertThat(t.path("datasource").path("uid").asText()).as(title).isEqualTo("${DS_PROMETHEUS}");
      }
    }
    List<String> titles = d.path("panels").findValuesAsText("title").stream().map(String::toLowerCase).toList();
    for (String wanted : List.of("requests by outcome", "error rate", "request duration p50 / p95 / p99",
        "time to first token", "gateway overhead", "attempts per request", "retries", "fallbacks",
        "circuit breaker state", "skipped backends", "tokens by type", "cost per hour by tier and model",
        "workflow type", "route decisions", "config reloads", "workflow outcomes", "repair minutes", "jvm heap",
        "direct memory and netty allocator", "connections")) {
      assertThat(titles).as("a panel titled like '%s'", wanted).anyMatch(t -> t.contains(wanted));
    }
  }

  @Test
  void everyDashboardExpressionParses() throws IOException {
    Map<String, String> exprs = dashboardExpressions();
    assertThat(exprs).hasSizeGreaterThan(20);
    ObjectNode file = JSON.createObjectNode();
    ArrayNode rules = file.putArray("groups").addObject().put("name", "dashboard-expressions").putArray("rules");
    int i = 0;
    for (Map.Entry<String, String> e : exprs.entrySet()) {
      rules.addObject().put("record", "dashboard_expr_" + i++).put("expr", e.getValue());
    }
    Path rulesFile = tmp.resolve("dashboard-rules.yml"); // JSON is YAML
    Files.writeString(rulesFile, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(file));
    Result r = promtool(List.of("check", "rules", rulesFile.toString()), null);
    if (r.exit != 0) {
      StringBuilder listing = new StringBuilder();
      int n = 0;
      for (Map.Entry<String, String> e : exprs.entrySet()) {
        listing.append("dashboard_expr_").append(n++).append(" = ").append(e.getKey()).append(": ")
            .append(e.getValue()).append('\n');
      }
      fail("dashboard expressions do not parse:%n%s%n%s", r.output, listing);
    }
    assertThat(r.output).contains("SUCCESS: " + exprs.size() + " rules found");
  }

  @Test
  void recordedSeriesTheDashboardReadsAreDefinedInRecordingRules() throws IOException {
    Set<String> recorded = new TreeSet<>();
    for (Path f : ruleFiles()) {
      for (JsonNode group : YAML.readTree(f.toFile()).path("groups")) {
        recorded.addAll(group.path("rules").findValuesAsText("record"));
      }
    }
    Set<String> used = new TreeSet<>();
    Pattern recordName = Pattern.compile("[a-zA-Z_]*:[a-zA-Z_][a-zA-Z0-9_:]*");
    for (String expr : dashboardExpressions().values()) {
      Matcher m = recordName.matcher(withoutStrings(expr));
      while (m.find()) {
        used.add(m.group());
      }
    }
    assertThat(used).as("the dashboard reads recording rules").isNotEmpty();
    assertThat(recorded).containsAll(used);
  }

  // ------------------------------------------------------------------------------------------ real scrape

  @Test
  void realScrapePassesPromtoolCheckMetricsKeepsLabelsBoundedAndHasWhatRulesAndDashboardRead() throws Exception {
    Path promtool = promtoolBinary(); // fail fast, before starting anything
    String madeUpModel = "made-up-model-" + UUID.randomUUID();
    String madeUpWorkflowType = "made-up-workflow-type-" + UUID.randomUUID();
    String madeUpWorkflowId = "made-up-workflow-id-" + UUID.randomUUID();
    String madeUpUser = "made-up-user-" + UUID.randomUUID();

    WireMockServer wm = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    wm.start();
    GatewayServer gw = null;
    try {
      wm.stubFor(post("/v1/chat/completions").atPriority(5).willReturn(aResponse().withStatus(200)
          .withHeader("Content-Type", "application/json").withBody(COMPLETION_JSON)));
      wm.stubFor(post("/v1/chat/completions").atPriority(1)
          .withRequestBody(matchingJsonPath("$.stream", equalTo("true")))
          .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "text/event-stream")
              .withBody(SSE_BODY)));
      wm.stubFor(post("/v1/embeddings").willReturn(aResponse().withStatus(500).withBody("boom")));

      gw = new GatewayServer(TestConfigs.oneBackend("http://127.0.0.1:" + wm.port() + "/v1"), Transport.nio(), 1)
          .start();
      String base = "http://127.0.0.1:" + gw.port();
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5)).build();

      // a success that carries client-chosen values which must never become label values
      HttpResponse<String> ok = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
          .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
          .header("x-workflow-type", madeUpWorkflowType).header("x-workflow-id", madeUpWorkflowId)
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gw-model\",\"user\":\"" + madeUpUser
              + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);

      HttpResponse<String> streamed = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
          .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
          .header("x-workflow-type", madeUpWorkflowType)
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gw-model\",\"stream\":true,"
              + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(streamed.statusCode()).as(streamed.body()).isEqualTo(200);

      HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
          .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + madeUpModel
              + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(unknown.statusCode()).as(unknown.body()).isEqualTo(404);

      HttpResponse<String> backendError = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/embeddings"))
          .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"embed\",\"input\":\"x\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(backendError.statusCode()).as(backendError.body()).isBetween(500, 599);

      // the requests are counted when they complete, which may be just after the client has its answer
      String[] scrape = new String[1];
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
        scrape[0] = get(http, base + "/metrics");
        return requestsCounted(scrape[0], "chat_completions", "2xx") >= 2
            && requestsCounted(scrape[0], "chat_completions", "4xx") >= 1
            && requestsCounted(scrape[0], "embeddings", "5xx") >= 1;
      });
      String text = scrape[0];
      Path saved = Path.of(System.getProperty("user.dir"), "target", "ops", "metrics-scrape.txt");
      Files.createDirectories(saved.getParent());
      Files.writeString(saved, text); // for a human reading a failure

      Result check = run(List.of(promtool.toString(), "check", "metrics"), text);
      assertThat(check.exit).as("promtool check metrics on a real scrape exited %d:%n%s%n--- scrape ---%n%s",
          check.exit, check.output, text).isZero();

      assertThat(text).as("client-chosen values never become label values")
          .doesNotContain(madeUpModel).doesNotContain(madeUpWorkflowType).doesNotContain(madeUpWorkflowId)
          .doesNotContain(madeUpUser).doesNotContain("made-up-");

      // every metric the rules and the dashboard read is exposed, or declared as created on its first event
      Set<String> exposed = text.lines().filter(l -> !l.isBlank() && !l.startsWith("#"))
          .map(l -> l.split("[{ ]", 2)[0]).collect(Collectors.toCollection(TreeSet::new));
      Map<String, Set<String>> unknownMetrics = new LinkedHashMap<>();
      for (Map.Entry<String, String> e : allExpressions().entrySet()) {
        Matcher m = METRIC_PREFIXES.matcher(withoutStrings(e.getValue()));
        while (m.find()) {
          String name = m.group();
          if (!exposed.contains(name) && !CREATED_ON_FIRST_EVENT.contains(name)) {
            unknownMetrics.computeIfAbsent(name, k -> new TreeSet<>()).add(e.getKey());
          }
        }
      }
      assertThat(unknownMetrics).as("metrics read by rules/dashboard but neither in the scrape nor declared "
          + "as created on first event (a typo?); scrape has: %s", exposed).isEmpty();

      // a declared counter the gateway exposes under another name (e.g. a base unit Micrometer appended:
      // x_tokens_total for x_total) would leave its panels and alerts silently empty
      for (String declared : CREATED_ON_FIRST_EVENT) {
        if (declared.endsWith("_total") && !exposed.contains(declared)) {
          String stem = declared.substring(0, declared.length() - "_total".length()) + "_";
          assertThat(exposed).as("the gateway exposes a counter like %s, but ops/ reads %s", stem + "*", declared)
              .noneMatch(n -> n.startsWith(stem) && n.endsWith("_total"));
        }
      }
    } finally {
      if (gw != null) {
        gw.stop(Duration.ofMillis(200));
      }
      wm.stop();
    }
  }

  // ------------------------------------------------------------------------------------------ helpers

  static final String COMPLETION_JSON = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
      + "\"model\":\"backend-model\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hello\","
      + "\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
      + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}";
  static final String SSE_BODY = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
      + "\"model\":\"backend-model\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"he\"},"
      + "\"finish_reason\":null}]}\n\n"
      + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"backend-model\","
      + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"llo\"},\"finish_reason\":\"stop\"}]}\n\n"
      + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"backend-model\","
      + "\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n"
      + "data: [DONE]\n\n";

  /** The alerting and recording rule files: every {@code ops/prometheus/*.yml} but the unit tests. */
  static List<Path> ruleFiles() {
    try (Stream<Path> files = Files.list(PROMETHEUS_DIR)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".yml"))
          .filter(f -> !f.getFileName().toString().endsWith("_test.yml")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("no " + PROMETHEUS_DIR + " (tests must run in the gateway-server module)", e);
    }
  }

  /** Every PromQL expression of the dashboard (panels, annotations, variable queries), variables substituted. */
  static Map<String, String> dashboardExpressions() throws IOException {
    JsonNode d = JSON.readTree(DASHBOARD.toFile());
    Set<String> dashboardVariables = new LinkedHashSet<>(d.path("templating").path("list").findValuesAsText("name"));
    Map<String, String> out = new LinkedHashMap<>();
    collectExpressions(d, "dashboard", out);
    // label_values(<selector>, label) in variable queries: the selector must parse too
    Pattern labelValues = Pattern.compile("^\\s*label_values\\((.+),\\s*\\w+\\s*\\)\\s*$");
    for (JsonNode v : d.path("templating").path("list")) {
      Matcher m = labelValues.matcher(v.path("definition").asText(""));
      if (m.matches()) {
        out.put("variable " + v.path("name").asText(), m.group(1));
      }
    }
    Map<String, String> substituted = new LinkedHashMap<>();
    out.forEach((where, expr) -> substituted.put(where, substitute(where, expr, dashboardVariables)));
    return substituted;
  }

  private static void collectExpressions(JsonNode node, String where, Map<String, String> out) {
    if (node.isObject()) {
      String here = node.hasNonNull("title") ? "panel '" + node.get("title").asText() + "'"
          : node.hasNonNull("name") ? "'" + node.get("name").asText() + "'" : where;
      if (node.path("expr").isTextual() && !node.get("expr").asText().isBlank()) {
        String key = here + " " + node.path("refId").asText("");
        while (out.containsKey(key)) {
          key = key + "'";
        }
        out.put(key, node.get("expr").asText());
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        collectExpressions(it.next().getValue(), here, out);
      }
    } else if (node.isArray()) {
      node.forEach(child -> collectExpressions(child, where, out));
    }
  }

  static String substitute(String where, String expr, Set<String> dashboardVariables) {
    Matcher m = VARIABLE.matcher(expr);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String name = m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3);
      String value;
      if (BUILT_IN_VARIABLES.containsKey(name)) {
        value = BUILT_IN_VARIABLES.get(name);
      } else if (dashboardVariables.contains(name)) {
        value = ".*"; // what "All" sends (allValue)
      } else if (name.chars().allMatch(Character::isDigit)) {
        value = m.group(); // a regex group reference such as label_replace's "$1"
      } else {
        return fail("%s: unknown variable '%s' in %s", where, m.group(), expr);
      }
      m.appendReplacement(sb, Matcher.quoteReplacement(value));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  /** Every expression of the rule files and the dashboard, keyed by where it comes from. */
  static Map<String, String> allExpressions() throws IOException {
    Map<String, String> all = new LinkedHashMap<>();
    for (Path f : ruleFiles()) {
      for (JsonNode group : YAML.readTree(f.toFile()).path("groups")) {
        for (JsonNode rule : group.path("rules")) {
          all.put(f.getFileName() + " " + rule.path("alert").asText(rule.path("record").asText()),
              rule.path("expr").asText());
        }
      }
    }
    dashboardExpressions().forEach((k, v) -> all.put("llm-gateway.json " + k, v));
    return all;
  }

  /** PromQL with string literals (label values, regexes, comments' quotes) blanked out. */
  static String withoutStrings(String expr) {
    return expr.replaceAll("#[^\\n]*", " ").replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
        .replaceAll("'(?:[^'\\\\]|\\\\.)*'", "''");
  }

  static long requestsCounted(String scrape, String endpoint, String status) {
    return scrape.lines().filter(l -> l.startsWith("gateway_requests_total{"))
        .filter(l -> l.contains("endpoint=\"" + endpoint + "\"") && l.contains("status=\"" + status + "\""))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  static String get(HttpClient http, String url) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
        .GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET %s", url).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(ct -> assertThat(ct).startsWith("text/plain"));
    return r.body();
  }

  record Result(int exit, String output) {}

  static void assertSucceeded(Result r) {
    assertThat(r.exit).as("promtool exited %d:%n%s", r.exit, r.output).isZero();
  }

  /** promtool from PATH; the build fails (never skips) without it. */
  static Path promtoolBinary() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (!dir.isEmpty()) {
        Path p = Path.of(dir, "promtool");
        if (Files.isRegularFile(p) && Files.isExecutable(p)) {
          return p;
        }
      }
    }
    return fail("promtool is not on PATH. Install the Debian package `prometheus` "
        + "(apt-get install -y prometheus; CI installs it): it checks ops/prometheus and ops/grafana and the "
        + "gateway's /metrics exposition.");
  }

  static Result promtool(List<String> args, String stdin) {
    List<String> cmd = new ArrayList<>();
    cmd.add(promtoolBinary().toString());
    cmd.addAll(args);
    return run(cmd, stdin);
  }

  /** Runs {@code cmd} in the repository root, feeding {@code stdin} (or nothing); stdout and stderr merged. */
  static Result run(List<String> cmd, String stdin) {
    try {
      Process p = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true).start();
      CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
        try {
          return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      try (OutputStream in = p.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return fail("%s did not finish within 60 s", cmd);
      }
      return new Result(p.exitValue(), output.get(10, TimeUnit.SECONDS));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + cmd, e);
    } catch (Exception e) {
      throw new IllegalStateException("running " + cmd, e);
    }
  }
}
