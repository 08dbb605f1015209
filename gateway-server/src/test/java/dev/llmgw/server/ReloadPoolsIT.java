package dev.llmgw.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.llmgw.core.GatewaySnapshot;
import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.Timeouts;
import dev.llmgw.core.upstream.Transport;
import dev.llmgw.testkit.TestConfigs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A reload that changes a backend's settings drains and closes its old pools (issue 14): 100 reloads
 * under load, each changing the backend's timeouts, leave the gateway's open connections to the
 * backend bounded (counted from the kernel's table, /proc/net/tcp) and every request answered.
 */
class ReloadPoolsIT {

  static GatewayConfig withFirstByte(GatewayConfig base, Duration firstByte) {
    Map<String, BackendSpec> backends = new LinkedHashMap<>();
    base.backends().forEach((n, b) -> backends.put(n, new BackendSpec(b.name(), b.baseUrl(), b.apiKeyEnv(), b.apiKey(),
        b.enabled(), b.disabledReason(), b.models(), new Timeouts(b.timeouts().connect(), firstByte,
        b.timeouts().idle(), b.timeouts().total()), b.maxConnections(), b.resilience())));
    return new GatewayConfig(null, base.listener(), base.limits(), backends, base.models(), base.failover(),
        base.economics(), base.access());
  }

  /** Established TCP connections to {@code port} on 127.0.0.1 (IPv4 and IPv6 tables). */
  static long connectionsTo(int port) throws Exception {
    String hex = String.format(":%04X", port);
    long n = 0;
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path p = Path.of(table);
      if (Files.exists(p)) {
        n += Files.readAllLines(p).stream().skip(1).map(String::trim).map(l -> l.split("\\s+"))
            .filter(f -> f.length > 3 && f[2].endsWith(hex) && f[3].equals("01")).count();
      }
    }
    return n;
  }

  @Test
  void a100ReloadsUnderLoadLeaveBackendConnectionsBounded() throws Exception {
    WireMockServer wm = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort().containerThreads(60));
    wm.start();
    wm.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200).withFixedDelay(5)
        .withHeader("Content-Type", "application/json").withBody("{\"id\":\"x\",\"object\":\"chat.completion\","
            + "\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,"
            + "\"total_tokens\":2}}")));
    GatewayConfig base = TestConfigs.oneBackend("http://127.0.0.1:" + wm.port() + "/v1");
    GatewayServer gw = new GatewayServer(base, Transport.best(), 2).start();
    HttpClient http = HttpClient.newHttpClient();
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    Thread[] load = new Thread[8];
    for (int i = 0; i < load.length; i++) {
      load[i] = new Thread(() -> {
        while (running.get()) {
          try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port()
                + "/v1/chat/completions")).POST(HttpRequest.BodyPublishers.ofString(
                "{\"model\":\"gw-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
                HttpResponse.BodyHandlers.ofString());
            (r.statusCode() == 200 ? ok : failed).incrementAndGet();
          } catch (Exception e) {
            failed.incrementAndGet();
          }
        }
      });
      load[i].start();
    }
    try {
      long max = 0;
      for (int i = 0; i < 100; i++) {
        gw.apply(GatewaySnapshot.of(withFirstByte(base, Duration.ofMillis(5_000 + i)))); // settings change
        int before = ok.get();
        await().atMost(Duration.ofSeconds(10)).until(() -> ok.get() > before); // traffic on the new pools
        max = Math.max(max, connectionsTo(wm.port()));
      }
      running.set(false);
      for (Thread t : load) {
        t.join(10_000);
      }
      gw.apply(GatewaySnapshot.of(withFirstByte(base, Duration.ofMillis(4_000)))); // closes what is left over
      long after = connectionsTo(wm.port());
      System.out.printf("[reload-pools] 100 reloads under load: %d answered, %d failed; backend connections at most"
          + " %d during, %d after; %d pools open%n", ok.get(), failed.get(), max, after, gw.pools().openPools());
      assertThat(failed.get()).isZero();
      // 8 clients on 2 event loops: at most 8 busy connections, plus those closing; before the fix each
      // reload left its pools' idle connections behind (one set per reload)
      assertThat(max).isLessThan(40);
      await().atMost(Duration.ofSeconds(10)).until(() -> connectionsTo(wm.port()) <= 8);
      assertThat(gw.pools().openPools()).isLessThanOrEqualTo(2);
    } finally {
      running.set(false);
      gw.stop(Duration.ofMillis(200));
      wm.stop();
    }
  }
}
