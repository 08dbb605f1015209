package dev.llmgw.core.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.ConfigLoader;
import dev.llmgw.core.config.GatewayConfig;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.resilience.BackendGuards;
import dev.llmgw.core.resilience.FailureClass;
import dev.llmgw.core.resilience.FailureClassifier;
import dev.llmgw.core.resilience.LocalModelHint;
import dev.llmgw.core.resilience.Unavailable;
import dev.llmgw.core.route.Route;
import dev.llmgw.core.route.RoutePlan;
import java.net.ConnectException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The error a request answers when every candidate failed, and when it carries the advice of
 * {@link LocalModelHint}: only a backend_unavailable error whose local model this request could not reach
 * (refused connection, failing health check, open breaker) — not a busy or rate-limited one, not another error.
 */
class FailureHistoryTest {
  static final GatewayConfig SHIPPED;
  static final String SENTENCE;

  static {
    try {
      SHIPPED = ConfigLoader.load(Path.of("..", "config", "gateway.yaml"), Map.of("OPENAI_API_KEY", "sk-test"));
    } catch (Exception e) {
      throw new ExceptionInInitializerError(e);
    }
    SENTENCE = LocalModelHint.sentence(SHIPPED);
  }

  final LocalModelHint hint = new LocalModelHint(new BackendGuards(), () -> SHIPPED);
  final BackendSpec local = SHIPPED.backends().get("local");
  final BackendSpec openai = SHIPPED.backends().get("openai");
  /** gpt-4o-mini, then local: the shipped balanced tier. */
  final RoutePlan plan = new RoutePlan("balanced", "r", List.of(new Route(SHIPPED.models().get("gpt-4o-mini"), openai),
      new Route(SHIPPED.models().get("local"), local)));

  @Test
  void localSkippedAsUnhealthyOrWithItsBreakerOpenGetsTheAdvice() {
    for (Unavailable why : List.of(Unavailable.UNHEALTHY, Unavailable.BREAKER_OPEN)) {
      FailureHistory h = new FailureHistory();
      h.skipped("openai", Unavailable.BULKHEAD_FULL);
      h.skipped("local", why);
      GatewayError e = h.finalError(plan, hint);
      assertThat(e.status()).isEqualTo(503);
      assertThat(e.code()).isEqualTo("backend_unavailable");
      assertThat(e.message()).isEqualTo("No backend could take the request (openai: too many concurrent calls; local: "
          + why.message() + "). " + SENTENCE);
    }
  }

  @Test
  void localRefusingConnectionsGetsTheAdvice() {
    FailureHistory h = new FailureHistory();
    h.failed("openai", FailureClassifier.ofStatus("openai", 500, null, null, null, null), null);
    h.failed("local", FailureClassifier.ofConnect("local", new ConnectException("Connection refused")), null);
    GatewayError e = h.finalError(plan, hint);
    assertThat(e.status()).isEqualTo(502);
    assertThat(e.message()).isEqualTo("The backend 'local' could not be reached: connection refused. " + SENTENCE);
  }

  @Test
  void aBusyOrRateLimitedLocalModelOrAnotherErrorGetsNone() {
    FailureHistory busy = new FailureHistory();
    busy.skipped("openai", Unavailable.UNHEALTHY);
    busy.skipped("local", Unavailable.BULKHEAD_FULL);
    assertThat(busy.finalError(plan, hint).message()).doesNotContain(SENTENCE).endsWith("too many concurrent calls).");

    FailureHistory limited = new FailureHistory();
    limited.skipped("local", Unavailable.RATE_LIMITED);
    assertThat(limited.finalError(plan, hint).message()).doesNotContain(SENTENCE);

    FailureHistory slow = new FailureHistory();
    slow.failed("local", FailureClassifier.ofTimeout("local", FailureClass.TTFB_TIMEOUT), null);
    GatewayError timeout = slow.finalError(plan, hint);
    assertThat(timeout.code()).isEqualTo("backend_timeout");
    assertThat(timeout.message()).doesNotContain(SENTENCE);

    FailureHistory remoteOnly = new FailureHistory(); // local was fine; only the provider is unreachable
    remoteOnly.failed("openai", FailureClassifier.ofConnect("openai", new ConnectException("refused")), null);
    assertThat(remoteOnly.finalError(plan, hint).message()).doesNotContain(SENTENCE);
  }
}
