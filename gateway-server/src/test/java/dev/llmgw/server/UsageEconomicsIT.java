package dev.llmgw.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.Economics;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.ModelAlias;
import dev.llmgw.core.config.Price;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.server.conformance.OpenAiSchemas;
import dev.llmgw.testkit.LlamaServer;
import dev.llmgw.testkit.TestConfigs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Usage and money end to end: the gateway asks every stream for usage and hides the extra chunk from
 * clients that did not ask, records tokens and cost per call, and accounts them to workflows whose
 * outcomes the application reports — against WireMock and a real llama.cpp server.
 */
class UsageEconomicsIT {
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  static final Price PRICE = new Price(1, 0.5, 2); // $ per million tokens
  static final String ADMIN = "usage-it-admin-token";
  static LlamaServer llama;
  WireMockServer wm;
  GatewayServer gw;

  @BeforeAll
  static void startLlama() throws Exception {
    llama = LlamaServer.start();
  }

  @AfterAll
  static void stopLlama() throws Exception {
    llama.close();
  }

  @BeforeEach
  void start() {
    wm = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    wm.start();
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.stop(Duration.ofMillis(200));
    }
    wm.stop();
  }

  GatewayServer gateway(String baseUrl) throws Exception {
    GatewayConfig base = TestConfigs.oneBackend(baseUrl);
    Map<String, ModelAlias> models = new LinkedHashMap<>();
    base.models().forEach((k, m) -> models.put(k, new ModelAlias(m.alias(), m.backend(), m.backendModel(), m.ownedBy(),
        m.contextTokens(), m.fallbacks(), PRICE)));
    Map<String, BackendSpec> backends = base.backends();
    Economics economics = new Economics(Map.of("support-reply", new Economics.WorkflowType("support-reply", 0.75)),
        1000, Duration.ofHours(1), null);
    gw = new GatewayServer(new GatewayConfig(null, base.listener(), base.limits(), backends, models, base.failover(),
        economics, new dev.llmgw.core.config.Access(true, dev.llmgw.core.config.Secrets.sha256Hex(ADMIN), false, Map.of(),
        Map.of(), dev.llmgw.core.config.Access.ConnectionLimits.defaults())), Transport.best(), 1).start();
    return gw;
  }

  HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static final String USAGE_EVENT = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,"
      + "\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,"
      + "\"total_tokens\":1500,\"prompt_tokens_details\":{\"cached_tokens\":400}}}\n\n";
  static final String CONTENT_EVENT = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,"
      + "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n";

  @Test
  void theUsageChunkAskedForByTheGatewayIsHiddenFromAClientThatDidNotAsk() throws Exception {
    wm.stubFor(com.github.tomakehurst.wiremock.client.WireMock.post("/v1/chat/completions")
        .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "text/event-stream")
            .withBody(CONTENT_EVENT + USAGE_EVENT + "data: [DONE]\n\n").withChunkedDribbleDelay(3, 30)));
    gateway("http://127.0.0.1:" + wm.port() + "/v1");
    HttpResponse<String> r = post("/v1/chat/completions",
        "{\"model\":\"gw-model\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
        "x-workflow-id", "ticket-1", "x-workflow-type", "support-reply");
    assertThat(r.body()).isEqualTo(CONTENT_EVENT + "data: [DONE]\n\n");
    wm.verify(postRequestedFor(urlEqualTo("/v1/chat/completions"))
        .withRequestBody(matchingJsonPath("$.stream_options.include_usage", com.github.tomakehurst.wiremock.client
            .WireMock.equalTo("true"))));
    // tokens and cost were still recorded: 600 uncached × $1 + 400 cached × $0.5 + 500 × $2, per million
    JsonNode wf = RequestParser.JSON.readTree(get("/v1/workflows/ticket-1").body());
    assertThat(wf.get("promptTokens").asLong()).isEqualTo(1000);
    assertThat(wf.get("completionTokens").asLong()).isEqualTo(500);
    assertThat(wf.get("cost").asDouble()).isCloseTo((600 * 1 + 400 * 0.5 + 500 * 2) / 1e6, within(1e-12));
    assertThat(wf.get("estimated").asBoolean()).isFalse();
    String metrics = get("/metrics").body();
    assertThat(metrics).contains("gen_ai_client_token_usage_total{backend=\"mock\",estimated=\"false\",model=\"gw-model\","
        + "tier=\"-\",type=\"output\"} 500.0");
    assertThat(metrics).contains("gateway_cost_usd_total{backend=\"mock\",model=\"gw-model\",tier=\"-\","
        + "workflow_type=\"support-reply\"}");
  }

  @Test
  void aClientThatAskedForUsageGetsTheChunk() throws Exception {
    wm.stubFor(com.github.tomakehurst.wiremock.client.WireMock.post("/v1/chat/completions")
        .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "text/event-stream")
            .withBody(CONTENT_EVENT + USAGE_EVENT + "data: [DONE]\n\n")));
    gateway("http://127.0.0.1:" + wm.port() + "/v1");
    HttpResponse<String> r = post("/v1/chat/completions", "{\"model\":\"gw-model\",\"stream\":true,"
        + "\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(r.body()).isEqualTo(CONTENT_EVENT + USAGE_EVENT + "data: [DONE]\n\n");
  }

  @Test
  void aRealLocalModelsStreamUsageIsRecordedAndStripped() throws Exception {
    gateway(llama.baseUrl());
    HttpResponse<String> r = post("/v1/chat/completions", "{\"model\":\"gw-model\",\"max_tokens\":6,\"stream\":true,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}", "x-workflow-id", "local-1");
    assertThat(r.statusCode()).isEqualTo(200);
    OpenAiSchemas.assertSseStreamValid(OpenAiSchemas.CHAT_COMPLETION_CHUNK, r.body());
    assertThat(r.body()).doesNotContain("\"usage\":{");
    JsonNode wf = RequestParser.JSON.readTree(get("/v1/workflows/local-1").body());
    assertThat(wf.get("completionTokens").asLong()).isBetween(1L, 6L);
    assertThat(wf.get("promptTokens").asLong()).isPositive();
    assertThat(wf.get("estimated").asBoolean()).isFalse();
  }

  @Test
  void aStreamCutByTheClientIsChargedAnEstimate() throws Exception {
    gateway(llama.baseUrl());
    // a long generation the client abandons after the first bytes
    HttpResponse<java.io.InputStream> r = HTTP.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
        .header("x-workflow-id", "cut-1")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gw-model\",\"max_tokens\":2000,\"stream\":true,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"write a long story\"}]}")).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    r.body().read(new byte[64]);
    r.body().close();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      HttpResponse<String> wf = get("/v1/workflows/cut-1");
      assertThat(wf.statusCode()).isEqualTo(200);
      JsonNode n = RequestParser.JSON.readTree(wf.body());
      assertThat(n.get("estimated").asBoolean()).isTrue();
      assertThat(n.get("promptTokens").asLong()).isPositive();
    });
  }

  @Test
  void outcomesTurnIntoTheWorkflowReport() throws Exception {
    wm.stubFor(com.github.tomakehurst.wiremock.client.WireMock.post("/v1/chat/completions")
        .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
            .withBody("{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[],"
                + "\"usage\":{\"prompt_tokens\":100000,\"completion_tokens\":50000,\"total_tokens\":150000}}")));
    gateway("http://127.0.0.1:" + wm.port() + "/v1");
    String chat = "{\"model\":\"gw-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
        + "\"metadata\":{\"workflow_id\":\"W%d\",\"workflow_type\":\"support-reply\"}}";
    for (int i = 1; i <= 2; i++) {
      assertThat(post("/v1/chat/completions", chat.formatted(i)).statusCode()).isEqualTo(200);
    }
    assertThat(post("/v1/workflows/W1/outcome", "{\"outcome\":\"accepted\",\"value\":1.0}").statusCode()).isEqualTo(200);
    assertThat(post("/v1/workflows/W2/outcome", "{\"outcome\":\"repaired\",\"repair_minutes\":10,\"value\":5.0}")
        .statusCode()).isEqualTo(200);
    HttpResponse<String> bad = post("/v1/workflows/W2/outcome", "{\"outcome\":\"great\"}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(RequestParser.JSON.readTree(bad.body()).at("/error/param").asText()).isEqualTo("outcome");
    assertThat(post("/v1/workflows/nope/outcome", "{\"outcome\":\"accepted\"}").statusCode()).isEqualTo(404);
    String metrics = get("/metrics").body();
    assertThat(metrics).contains("gateway_workflow_outcomes_total{outcome=\"repaired\",workflow_type=\"support-reply\"} 1.0");
    assertThat(metrics).contains("gateway_workflow_repair_minutes_total{workflow_type=\"support-reply\"} 10.0");
    // the report is admin-only
    assertThat(get("/admin/economics").statusCode()).isEqualTo(401);
    HttpResponse<String> report = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port()
        + "/admin/economics?window=1h")).header("Authorization", "Bearer " + ADMIN).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(report.statusCode()).isEqualTo(200);
    JsonNode support = RequestParser.JSON.readTree(report.body()).get("byWorkflowType").get(0);
    assertThat(support.get("name").asText()).isEqualTo("support-reply");
    assertThat(support.get("workflows").asInt()).isEqualTo(2);
    assertThat(support.get("modelCost").asDouble()).isCloseTo(0.4, within(1e-9));
    assertThat(support.get("repairCost").asDouble()).isCloseTo(7.5, within(1e-9));
    assertThat(support.get("repairRate").asDouble()).isCloseTo(0.5, within(1e-9));
    assertThat(support.get("margin").asDouble()).isCloseTo(6.0 - 0.4 - 7.5, within(1e-9));
    JsonNode w2 = RequestParser.JSON.readTree(get("/v1/workflows/W2").body());
    assertThat(w2.get("outcome").asText()).isEqualTo("REPAIRED");
    assertThat(w2.get("cost").asDouble()).isCloseTo(0.2, within(1e-9)); // 100k × $1 + 50k × $2 per million
  }

  void oneWorkflow(String id) throws Exception {
    wm.stubFor(com.github.tomakehurst.wiremock.client.WireMock.post("/v1/chat/completions")
        .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
            .withBody("{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[],"
                + "\"usage\":{\"prompt_tokens\":100000,\"completion_tokens\":50000,\"total_tokens\":150000}}")));
    if (gw == null) {
      gateway("http://127.0.0.1:" + wm.port() + "/v1");
    }
    assertThat(post("/v1/chat/completions", "{\"model\":\"gw-model\",\"messages\":[{\"role\":\"user\",\"content\":"
        + "\"hi\"}],\"metadata\":{\"workflow_id\":\"" + id + "\",\"workflow_type\":\"support-reply\"}}").statusCode())
        .isEqualTo(200);
  }

  JsonNode adminReport() throws Exception {
    HttpResponse<String> report = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port()
        + "/admin/economics?window=1h")).header("Authorization", "Bearer " + ADMIN).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(report.statusCode()).isEqualTo(200);
    return RequestParser.JSON.readTree(report.body()).get("byWorkflowType").get(0);
  }

  void assertRefused(HttpResponse<String> r, String param, String code) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    JsonNode e = RequestParser.JSON.readTree(r.body()).get("error");
    assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
    assertThat(e.get("param").asText()).isEqualTo(param);
    assertThat(e.get("code").asText()).isEqualTo(code);
  }

  @Test
  void outcomeNumbersAreFiniteAndBounded() throws Exception {
    oneWorkflow("B1");
    assertRefused(post("/v1/workflows/B1/outcome", "{\"outcome\":\"accepted\",\"value\":1e999}"), "value",
        "decimal_above_max_value");
    assertRefused(post("/v1/workflows/B1/outcome", "{\"outcome\":\"accepted\",\"value\":1000000000.5}"), "value",
        "decimal_above_max_value");
    assertRefused(post("/v1/workflows/B1/outcome", "{\"outcome\":\"accepted\",\"value\":-1}"), "value",
        "decimal_below_min_value");
    assertRefused(post("/v1/workflows/B1/outcome", "{\"outcome\":\"accepted\",\"value\":\"ten\"}"), "value",
        "invalid_type");
    assertRefused(post("/v1/workflows/B1/outcome", "{\"outcome\":\"repaired\",\"repair_minutes\":1e308}"),
        "repair_minutes", "decimal_above_max_value");
    assertRefused(post("/v1/workflows/B1/outcome", "{\"outcome\":\"repaired\",\"repair_minutes\":525601}"),
        "repair_minutes", "decimal_above_max_value");
    assertRefused(post("/v1/workflows/B1/outcome", "{\"outcome\":\"repaired\",\"repair_minutes\":-1e999}"),
        "repair_minutes", "decimal_below_min_value");
    // nothing refused reached the ledger or the metrics; the bounds themselves are accepted
    assertThat(RequestParser.JSON.readTree(get("/v1/workflows/B1").body()).path("outcome").isTextual()).isFalse();
    assertThat(get("/metrics").body()).doesNotContain("gateway_workflow_repair_minutes_total");
    assertThat(post("/v1/workflows/B1/outcome", "{\"outcome\":\"repaired\",\"repair_minutes\":525600,"
        + "\"value\":1e9}").statusCode()).isEqualTo(200);
    JsonNode support = adminReport();
    assertThat(support.get("value").isNumber()).as(support.toString()).isTrue();
    assertThat(support.get("value").asDouble()).isEqualTo(1e9);
    assertThat(support.get("margin").isNumber()).as(support.toString()).isTrue();
    assertThat(get("/metrics").body())
        .contains("gateway_workflow_repair_minutes_total{workflow_type=\"support-reply\"} 525600.0");
  }

  @Test
  void aRepostedOutcomeIsCountedOnceAndACorrectionByItsChange() throws Exception {
    oneWorkflow("R1");
    for (int i = 0; i < 2; i++) {
      assertThat(post("/v1/workflows/R1/outcome", "{\"outcome\":\"repaired\",\"repair_minutes\":15}").statusCode())
          .isEqualTo(200);
    }
    assertThat(RequestParser.JSON.readTree(get("/v1/workflows/R1").body()).get("repairMinutes").asDouble())
        .isEqualTo(15.0);
    String metrics = get("/metrics").body();
    assertThat(metrics).contains("gateway_workflow_outcomes_total{outcome=\"repaired\",workflow_type=\"support-reply\"} 1.0");
    assertThat(metrics).contains("gateway_workflow_repair_minutes_total{workflow_type=\"support-reply\"} 15.0");
    assertThat(metrics).doesNotContain("gateway_workflow_outcome_corrections_total{");
    assertThat(post("/v1/workflows/R1/outcome", "{\"outcome\":\"repaired\",\"repair_minutes\":20}").statusCode())
        .isEqualTo(200);
    metrics = get("/metrics").body();
    assertThat(metrics).contains("gateway_workflow_outcomes_total{outcome=\"repaired\",workflow_type=\"support-reply\"} 1.0");
    assertThat(metrics).contains("gateway_workflow_repair_minutes_total{workflow_type=\"support-reply\"} 20.0");
    assertThat(metrics).contains(
        "gateway_workflow_outcome_corrections_total{outcome=\"repaired\",workflow_type=\"support-reply\"} 1.0");
    assertThat(adminReport().get("repairCost").asDouble()).isCloseTo(20 * 0.75, within(1e-9));
  }
}
