package dev.llmgw.core.config;

import dev.llmgw.core.config.raw.BreakerYaml;
import dev.llmgw.core.config.raw.FailoverYaml;
import dev.llmgw.core.config.raw.HealthYaml;
import dev.llmgw.core.config.raw.RateLimitYaml;
import dev.llmgw.core.config.raw.ResilienceYaml;
import dev.llmgw.core.config.raw.RetryYaml;
import java.time.Duration;
import java.util.function.Function;

/**
 * Validates a backend's {@code resilience} section and the top-level {@code failover} section and
 * compiles them into {@link Resilience} and {@link Failover}. An omitted section or field takes its
 * default ({@link Resilience#defaults()}, {@link Failover#defaults()}); an omitted
 * {@code rateLimit} or {@code health} means none.
 */
final class ResilienceCompiler {

  /** What an empty {@code health: {}} checks. */
  static final Resilience.HealthCheck DEFAULT_HEALTH = new Resilience.HealthCheck("/models",
      Duration.ofSeconds(10), Duration.ofSeconds(2), 3, 2);
  static final int MAX_RETRY_ATTEMPTS = 10;
  static final int MAX_FAILOVER_ATTEMPTS = 20;

  private static final String COUNT = "an integer above 0, e.g. ";
  private static final String DURATION = "a duration, " + ConfigValues.DURATION_EXPECTED;

  private final Problems problems;

  ResilienceCompiler(Problems problems) {
    this.problems = problems;
  }

  /** The compiled section, or {@code null} when it has a problem (each one is recorded). */
  Resilience resilience(String path, ResilienceYaml r) {
    Resilience d = Resilience.defaults();
    if (r == null) {
      return d;
    }
    int before = problems.count();
    Integer maxConcurrent = count(path, "maxConcurrent", r.maxConcurrent(), d.maxConcurrent());
    Resilience.RateLimit rateLimit = rateLimit(YamlPath.child(path, "rateLimit"), r.rateLimit());
    Resilience.Breaker breaker = breaker(YamlPath.child(path, "breaker"), r.breaker());
    Resilience.Retry retry = retry(YamlPath.child(path, "retry"), r.retry());
    Resilience.HealthCheck health = health(YamlPath.child(path, "health"), r.health());
    if (problems.count() > before || maxConcurrent == null || breaker == null || retry == null) {
      return null;
    }
    return new Resilience(maxConcurrent, rateLimit, breaker, retry, health);
  }

  /** The compiled {@code failover} section, or {@code null} when it has a problem. */
  Failover failover(FailoverYaml f) {
    Failover d = Failover.defaults();
    if (f == null) {
      return d;
    }
    String path = "failover";
    Duration deadline = duration(path, "deadline", f.deadline(), d.deadline());
    String attempts = range(MAX_FAILOVER_ATTEMPTS, "attempts across all backends, retries"
        + " included");
    Integer maxAttempts = problems.optional(YamlPath.child(path, "maxAttempts"), f.maxAttempts(),
        d.maxAttempts(), attempts, s -> ConfigValues.intIn(s, 1, MAX_FAILOVER_ATTEMPTS, attempts));
    Duration maxRetryAfter = duration(path, "maxRetryAfter", f.maxRetryAfter(), d.maxRetryAfter());
    String lastResort = problems.optional(YamlPath.child(path, "lastResort"), f.lastResort(), null,
        "a model alias, e.g. local", s -> ConfigValues.nonBlank(s, "a model alias, e.g. local"));
    if (deadline == null || maxAttempts == null || maxRetryAfter == null
        || lastResort == null && f.lastResort() != null) {
      return null;
    }
    return new Failover(deadline, maxAttempts, maxRetryAfter, lastResort);
  }

  private Resilience.RateLimit rateLimit(String path, RateLimitYaml r) {
    if (r == null) {
      absentOrEmpty(path, "a mapping such as {requests: 500, per: 1m}; leave the key out for no"
          + " rate limit");
      return null;
    }
    Integer requests = problems.required(YamlPath.child(path, "requests"), r.requests(),
        COUNT + "500", s -> ConfigValues.intIn(s, 1, Integer.MAX_VALUE, COUNT + "500"));
    Duration per = problems.required(YamlPath.child(path, "per"), r.per(), DURATION,
        ConfigValues::duration);
    return requests == null || per == null ? null : new Resilience.RateLimit(requests, per);
  }

  private Resilience.Breaker breaker(String path, BreakerYaml b) {
    Resilience.Breaker d = Resilience.Breaker.defaults();
    if (b == null) {
      return d;
    }
    Integer window = count(path, "window", b.window(), d.window());
    Integer minimumCalls = count(path, "minimumCalls", b.minimumCalls(), d.minimumCalls());
    Float failureRate = percent(path, "failureRate", b.failureRate(), d.failureRatePercent());
    Duration slowCall = duration(path, "slowCall", b.slowCall(), d.slowCall());
    Float slowCallRate = percent(path, "slowCallRate", b.slowCallRate(), d.slowCallRatePercent());
    Duration openFor = duration(path, "openFor", b.openFor(), d.openFor());
    Integer halfOpenCalls = count(path, "halfOpenCalls", b.halfOpenCalls(), d.halfOpenCalls());
    boolean ordered = atMost(path, new Bound<>("minimumCalls", b.minimumCalls(), minimumCalls),
        new Bound<>("window", b.window(), window), Words.COUNT, String::valueOf);
    if (!ordered || window == null || minimumCalls == null || failureRate == null
        || slowCall == null || slowCallRate == null || openFor == null || halfOpenCalls == null) {
      return null;
    }
    return new Resilience.Breaker(window, minimumCalls, failureRate, slowCall, slowCallRate,
        openFor, halfOpenCalls);
  }

  private Resilience.Retry retry(String path, RetryYaml r) {
    Resilience.Retry d = Resilience.Retry.defaults();
    if (r == null) {
      return d;
    }
    String attempts = range(MAX_RETRY_ATTEMPTS, "attempts on this backend including the first;"
        + " 1 = no retry");
    Integer maxAttempts = problems.optional(YamlPath.child(path, "maxAttempts"), r.maxAttempts(),
        d.maxAttempts(), attempts, s -> ConfigValues.intIn(s, 1, MAX_RETRY_ATTEMPTS, attempts));
    Duration initialBackoff = duration(path, "initialBackoff", r.initialBackoff(),
        d.initialBackoff());
    Double multiplier = problems.optional(YamlPath.child(path, "multiplier"), r.multiplier(),
        d.multiplier(), ConfigValues.MULTIPLIER_EXPECTED, ConfigValues::multiplier);
    Duration maxBackoff = duration(path, "maxBackoff", r.maxBackoff(), d.maxBackoff());
    boolean ordered = atMost(path, new Bound<>("initialBackoff", r.initialBackoff(), initialBackoff),
        new Bound<>("maxBackoff", r.maxBackoff(), maxBackoff), Words.DURATION,
        BackendCompiler::format);
    if (!ordered || maxAttempts == null || initialBackoff == null || multiplier == null
        || maxBackoff == null) {
      return null;
    }
    return new Resilience.Retry(maxAttempts, initialBackoff, multiplier, maxBackoff);
  }

  private Resilience.HealthCheck health(String path, HealthYaml h) {
    Resilience.HealthCheck d = DEFAULT_HEALTH;
    if (h == null) {
      absentOrEmpty(path, "a mapping such as {path: /models, interval: 10s}, or {} for the"
          + " defaults; leave the key out for no active health check");
      return null;
    }
    String checkPath = problems.optional(YamlPath.child(path, "path"), h.path(), d.path(),
        ConfigValues.HEALTH_PATH_EXPECTED, ConfigValues::healthPath);
    Duration interval = duration(path, "interval", h.interval(), d.interval());
    Duration timeout = duration(path, "timeout", h.timeout(), d.timeout());
    Integer unhealthyAfter = count(path, "unhealthyAfter", h.unhealthyAfter(), d.unhealthyAfter());
    Integer healthyAfter = count(path, "healthyAfter", h.healthyAfter(), d.healthyAfter());
    boolean ordered = atMost(path, new Bound<>("timeout", h.timeout(), timeout),
        new Bound<>("interval", h.interval(), interval), Words.DURATION_STRICT,
        BackendCompiler::format);
    if (!ordered || checkPath == null || interval == null || timeout == null
        || unhealthyAfter == null || healthyAfter == null) {
      return null;
    }
    return new Resilience.HealthCheck(checkPath, interval, timeout, unhealthyAfter, healthyAfter);
  }

  /** For a section whose absence means "none": written with no value is a problem. */
  private void absentOrEmpty(String path, String expected) {
    if (problems.present(path)) {
      problems.add(path, "no value (expected " + expected + ")");
    }
  }

  private Integer count(String path, String key, String raw, int def) {
    String expected = COUNT + def;
    return problems.optional(YamlPath.child(path, key), raw, def, expected,
        s -> ConfigValues.intIn(s, 1, Integer.MAX_VALUE, expected));
  }

  private Float percent(String path, String key, String raw, float def) {
    return problems.optional(YamlPath.child(path, key), raw, def, ConfigValues.PERCENT_EXPECTED,
        ConfigValues::percent);
  }

  private Duration duration(String path, String key, String raw, Duration def) {
    return problems.optional(YamlPath.child(path, key), raw, def, DURATION,
        ConfigValues::duration);
  }

  private static String range(int max, String meaning) {
    return "an integer 1.." + max + ": " + meaning;
  }

  /** A value in an ordering check: its key, the text written ({@code null}: the default). */
  private record Bound<T>(String key, String raw, T value) {
    boolean written() {
      return raw != null;
    }
  }

  /** How an ordering check reads. */
  private enum Words {
    COUNT("is more than", "is less than", false),
    DURATION("is longer than", "is shorter than", false),
    DURATION_STRICT("is not shorter than", "is not longer than", true);

    final String over;
    final String under;
    final boolean strict;
    final String op;

    Words(String over, String under, boolean strict) {
      this.over = over;
      this.under = under;
      this.strict = strict;
      this.op = strict ? "<" : "<=";
    }

    <T extends Comparable<T>> boolean holds(T small, T big) {
      int c = small.compareTo(big);
      return strict ? c < 0 : c <= 0;
    }
  }

  /**
   * Checks {@code small <= big} ({@code <} for {@link Words#DURATION_STRICT}). The problem is
   * reported at the smaller key when it was written, else at the larger one, naming the default
   * that clashes; {@code false} when it does not hold.
   */
  private <T extends Comparable<T>> boolean atMost(String path, Bound<T> small, Bound<T> big,
      Words words, Function<T, String> format) {
    if (small.value() == null || big.value() == null || words.holds(small.value(), big.value())) {
      return true;
    }
    String rule = small.key() + " " + words.op + " " + big.key();
    if (small.written() || !big.written()) {
      problems.add(YamlPath.child(path, small.key()), "'" + format.apply(small.value()) + "' "
          + words.over + " " + big.key() + " '" + format.apply(big.value()) + "'"
          + (big.written() ? "" : " (the default)") + " (expected " + rule + ")");
    } else {
      problems.add(YamlPath.child(path, big.key()), "'" + format.apply(big.value()) + "' "
          + words.under + " " + small.key() + " '" + format.apply(small.value()) + "' (the default)"
          + " (expected " + rule + "; set " + small.key() + " too)");
    }
    return false;
  }
}
