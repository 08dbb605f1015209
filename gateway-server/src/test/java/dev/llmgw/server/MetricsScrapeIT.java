package dev.llmgw.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.upstream.Transport;
import dev.llmgw.testkit.TestConfigs;
import io.micrometer.core.instrument.Gauge;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A metrics scrape is CPU work that grows with the series; it runs on its own thread, so a slow one
 * never delays the requests of other connections on the same event loop. Here a gauge blocks every
 * scrape until released, on a gateway with one event loop.
 */
class MetricsScrapeIT {
  GatewayServer gw;
  final CountDownLatch scraping = new CountDownLatch(1);
  final CountDownLatch release = new CountDownLatch(1);
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void start() throws Exception {
    gw = new GatewayServer(TestConfigs.oneBackend("http://127.0.0.1:9/v1"), Transport.best(), 1).start();
    Gauge.builder("test.slow.gauge", () -> {
      scraping.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return 1;
    }).description("blocks a scrape until the test releases it").register(gw.meterRegistry());
  }

  @AfterEach
  void stop() {
    release.countDown();
    gw.stop(Duration.ofMillis(200));
  }

  CompletableFuture<HttpResponse<String>> get(String path) {
    return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + path))
        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aSlowScrapeDoesNotHoldTheEventLoop() throws Exception {
    CompletableFuture<HttpResponse<String>> first = get("/metrics");
    assertThat(scraping.await(10, TimeUnit.SECONDS)).as("the scrape reached the gauge").isTrue();

    // the scrape is stuck in the gauge: the only event loop still answers other connections
    HttpResponse<String> health = get("/healthz").get(5, TimeUnit.SECONDS);
    assertThat(health.statusCode()).isEqualTo(200);
    HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port()
        + "/metrics")).POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.body()).contains("\"error\":{").contains("\"type\":");

    // a few wait behind it; beyond that a scraper is told to come back (it never queues without bound):
    // of SCRAPES_WAITING + 2 more, exactly two are turned away at once, whatever order they arrive in
    int waitingSlots = dev.llmgw.server.http.LocalEndpoints.SCRAPES_WAITING;
    List<CompletableFuture<HttpResponse<String>>> more = new ArrayList<>();
    for (int i = 0; i < waitingSlots + 2; i++) {
      more.add(get("/metrics"));
    }
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
        more.stream().filter(f -> f.isDone() && f.join().statusCode() == 503).count() == 2);
    for (CompletableFuture<HttpResponse<String>> f : more) {
      if (f.isDone()) {
        assertThat(f.join().body()).contains("\"error\":{").contains("scrapes are waiting");
      }
    }
    assertThat(first).isNotDone();

    release.countDown();
    HttpResponse<String> scraped = first.get(10, TimeUnit.SECONDS);
    assertThat(scraped.statusCode()).isEqualTo(200);
    assertThat(scraped.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
    assertThat(scraped.body()).contains("test_slow_gauge 1.0");
    assertThat(more.stream().map(f -> f.join().statusCode()).filter(c -> c == 200).count())
        .as("the waiting scrapes are answered once the first is done").isEqualTo(waitingSlots);
  }
}
