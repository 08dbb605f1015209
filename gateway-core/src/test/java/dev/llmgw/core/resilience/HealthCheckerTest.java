package dev.llmgw.core.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.llmgw.core.config.Failover;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.config.Resilience;
import dev.llmgw.testkit.TestConfigs;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Active health checks and the circuit breaker: a check that passes after the breaker opened moves it to
 * half-open, so recovery is not bounded by {@code openFor} (30 s here, far beyond every wait below).
 */
class HealthCheckerTest {
  private HttpServer server;
  private final AtomicInteger status = new AtomicInteger(200);
  private final AtomicInteger checks = new AtomicInteger();
  private final BackendGuards guards = new BackendGuards();
  private HealthChecker checker;
  private GatewayConfig config;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      checks.incrementAndGet();
      exchange.sendResponseHeaders(status.get(), -1);
      exchange.close();
    });
    server.start();
    String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    Resilience.Breaker breaker = Resilience.Breaker.defaults();
    assertThat(breaker.openFor()).isEqualTo(Duration.ofSeconds(30));
    Resilience remote = new Resilience(256, null, breaker, Resilience.Retry.defaults(),
        new Resilience.HealthCheck("/health", Duration.ofMillis(20), Duration.ofSeconds(1), 2, 1));
    config = TestConfigs.failover(url, "http://127.0.0.1:9/v1", remote, TestConfigs.fastTimeouts(),
        Failover.defaults());
    checker = new HealthChecker(guards);
  }

  @AfterEach
  void stop() {
    checker.close();
    server.stop(0);
  }

  private BackendGuard remote() {
    return guards.guard(config.backends().get("remote"));
  }

  @Test
  void aPassingCheckMovesAnOpenBreakerToHalfOpen() {
    remote().breaker().transitionToOpenState(); // an outage seen by requests
    checker.apply(config);
    await().atMost(Duration.ofSeconds(5)).until(() -> remote().breaker().getState() == CircuitBreaker.State.HALF_OPEN);
    assertThat(remote().tryAcquire()).as("the next request probes the backend").isNull();
    remote().onSuccess(System.nanoTime());
  }

  @Test
  void aFailingCheckLeavesItOpenUntilTheBackendAnswersAgain() {
    status.set(503);
    remote().breaker().transitionToOpenState();
    checker.apply(config);
    await().atMost(Duration.ofSeconds(5)).until(() -> checks.get() >= 4);
    assertThat(remote().breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(remote().isHealthy()).isFalse();
    status.set(200); // the backend is back
    await().atMost(Duration.ofSeconds(5)).until(() -> remote().breaker().getState() == CircuitBreaker.State.HALF_OPEN);
    assertThat(remote().isHealthy()).isTrue();
  }

  @Test
  void onlyACheckSentWhileTheBreakerWasOpenCounts() {
    BackendGuard g = new BackendGuard(config.backends().get("remote"));
    assertThat(g.healthCheckPassed(true)).as("closed: nothing to do").isFalse();
    assertThat(g.breaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    g.breaker().transitionToOpenState();
    assertThat(g.healthCheckPassed(false)).as("the check started before the breaker opened").isFalse();
    assertThat(g.breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(g.healthCheckPassed(true)).isTrue();
    assertThat(g.breaker().getState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    assertThat(g.healthCheckPassed(true)).as("already half-open").isFalse();
  }

  @Test
  void backendsWithoutACheckAreHealthy() {
    checker.apply(config);
    assertThat(guards.guard(config.backends().get("local")).isHealthy()).isTrue();
    assertThat(guards.guard(config.backends().get("local")).breakerOpen()).isFalse();
  }
}
