package dev.llmgw.core.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.llmgw.core.config.Access;
import dev.llmgw.core.config.Economics;
import dev.llmgw.core.config.StateSettings;
import dev.llmgw.core.economics.Ledger;
import dev.llmgw.core.economics.WorkflowRecord;
import dev.llmgw.core.log.RequestLog;
import dev.llmgw.testkit.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The three state stores against the same contract (budgets reserved atomically and settled once,
 * rate windows, the ledger), and what only some of them promise: the embedded store survives a
 * restart, Redis is shared by two gateways and survives their restart, and faults give clear errors.
 * Redis is the real server (Debian's redis-server) on a free loopback port.
 */
class StateStoreTest {
  @RegisterExtension
  static final RedisServer redis = RedisServer.perClass();
  static final Economics ECONOMICS = new Economics(java.util.Map.of(), 1000, Duration.ofHours(24), null);
  static final Access.Budget TEN_CENTS = new Access.Budget(Access.Period.DAY, 0.10, Double.NaN, false);
  @TempDir
  Path dir;
  int prefixes;

  StateStore open(String kind) {
    return switch (kind) {
      case "memory" -> new MemoryStore(ECONOMICS, Clock.systemUTC());
      case "embedded" -> new EmbeddedStore(dir.resolve("state/gateway.mv"), Duration.ofMillis(20), ECONOMICS,
          Clock.systemUTC());
      default -> redisStore(dir.getFileName() + ":", true);
    };
  }

  /**
   * A store on the shared test Redis. Its command timeout is generous: these tests are about what a
   * reachable Redis guarantees, and on a loaded 2-core machine a 300 ms timeout made the store fail
   * open (local admission on each instance) and so double the budget (the outage tests use their own).
   */
  StateStore redisStore(String prefix, boolean failOpen) {
    return new RedisStore(new StateSettings(StateSettings.Store.REDIS, null, StateSettings.DEFAULT_FLUSH, redis.url(),
        prefix, Duration.ofSeconds(3), failOpen), ECONOMICS, Clock.systemUTC(), new SimpleMeterRegistry());
  }

  static Access.ApiKey key(String name, int rpm, long tpm, Access.Budget budget, String team) {
    return new Access.ApiKey(name, "0".repeat(64), team, Set.of(), Set.of(), rpm, tpm, budget, false, false);
  }

  static StateStore.Grant admit(StateStore s, Access.ApiKey key, Access.Team team, long tokens, long micros)
      throws Exception {
    return s.admit(key, team, tokens, micros).get(5, TimeUnit.SECONDS);
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "embedded", "redis"})
  void aHardBudgetAdmitsWhatItsReservationsAllowAndSettlesTheRealCost(String kind) throws Exception {
    try (StateStore s = open(kind)) {
      Access.ApiKey k = key("k1", 0, 0, TEN_CENTS, null);
      List<StateStore.Grant> grants = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        grants.add(admit(s, k, k.team() == null ? null : null, 100, 30_000)); // $0.03 reserved each
      }
      assertThat(grants.stream().filter(StateStore.Grant::allowed).count()).isEqualTo(3);
      StateStore.Grant refused = grants.get(3);
      assertThat(refused.allowed()).isFalse();
      assertThat(refused.exhausted()).isEqualTo("key");
      grants.get(0).settlement().settle(100, 10_000); // real cost $0.01
      grants.get(1).settlement().settle(0, 0); // nothing reached a backend: released
      grants.get(2).settlement().settle(100, -1); // tokens at an unknown price: the reservation stays spent
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
          assertThat(s.spentUsd("key:k1")).isCloseTo(0.04, within(1e-9)));
      // $0.06 left: two more $0.03 reservations, not three
      assertThat(admit(s, k, null, 100, 30_000).allowed()).isTrue();
      assertThat(admit(s, k, null, 100, 30_000).allowed()).isTrue();
      assertThat(admit(s, k, null, 100, 30_000).allowed()).isFalse();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "embedded", "redis"})
  void aTeamBudgetBindsEveryKeyOfTheTeam(String kind) throws Exception {
    try (StateStore s = open(kind)) {
      Access.Team team = new Access.Team("t1", TEN_CENTS);
      Access.ApiKey a = key("a", 0, 0, null, "t1");
      Access.ApiKey b = key("b", 0, 0, null, "t1");
      assertThat(admit(s, a, team, 10, 60_000).allowed()).isTrue();
      StateStore.Grant second = admit(s, b, team, 10, 60_000);
      assertThat(second.allowed()).isFalse();
      assertThat(second.exhausted()).isEqualTo("team");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "embedded", "redis"})
  void requestsPerMinuteRefuseWithARetryAfterAndGiveFigures(String kind) throws Exception {
    try (StateStore s = open(kind)) {
      Access.ApiKey k = key("rpm", 3, 0, null, null);
      for (int i = 0; i < 3; i++) {
        StateStore.Grant g = admit(s, k, null, 10, 0);
        assertThat(g.allowed()).isTrue();
        assertThat(g.rate().remainingRequests()).isEqualTo(2 - i);
      }
      StateStore.Grant g = admit(s, k, null, 10, 0);
      assertThat(g.allowed()).isFalse();
      assertThat(g.limitedBy()).isEqualTo("requests");
      assertThat(g.retryAfterMillis()).isBetween(1L, 20_000L);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "embedded", "redis"})
  void sixtyRequestsPerMinuteAdmitSixtyOfAHundred(String kind) throws Exception {
    try (StateStore s = open(kind)) {
      Access.ApiKey k = key("rpm60", 60, 0, null, null);
      int ok = 0;
      for (int i = 0; i < 100; i++) {
        if (admit(s, k, null, 4096, 0).allowed()) {
          ok++;
        }
      }
      assertThat(ok).isBetween(60, 62);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "embedded", "redis"})
  void tokensPerMinuteAreDebitedByEstimateAndCorrectedBySettlement(String kind) throws Exception {
    try (StateStore s = open(kind)) {
      Access.ApiKey k = key("tpm", 0, 1000, null, null);
      StateStore.Grant g = admit(s, k, null, 900, 0);
      assertThat(g.allowed()).isTrue();
      assertThat(admit(s, k, null, 500, 0).allowed()).as("100 left").isFalse();
      g.settlement().settle(100, 0); // really used 100: 800 come back
      await().atMost(Duration.ofSeconds(5)).until(() -> admit(s, k, null, 500, 0).allowed());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "embedded", "redis"})
  void theLedgerAddsCallsAndKeepsOutcomesPerNamespace(String kind) throws Exception {
    try (StateStore s = open(kind)) {
      s.ledger().record(call("wf-1", "alice", 0.5));
      s.ledger().record(call("wf-1", "alice", 0.25));
      await().atMost(Duration.ofSeconds(5)).until(() ->
          s.ledger().get("key:alice", "wf-1").map(WorkflowRecord.Snapshot::calls).orElse(0) == 2);
      WorkflowRecord.Snapshot w = s.ledger().get("key:alice", "wf-1").orElseThrow();
      assertThat(w.cost()).isCloseTo(0.75, within(1e-12));
      assertThat(w.promptTokens()).isEqualTo(200);
      assertThat(w.type()).isEqualTo("support");
      assertThat(s.ledger().get("key:bob", "wf-1")).isEmpty();
      assertThat(s.ledger().outcome("key:alice", "wf-1", WorkflowRecord.Outcome.ACCEPTED, 0, 1.0))
          .contains(new Ledger.Replaced("support", null, 0));
      assertThat(s.ledger().outcome("key:alice", "wf-1", WorkflowRecord.Outcome.REPAIRED, 2.5, 12.5))
          .as("what the outcome replaced").contains(new Ledger.Replaced("support", WorkflowRecord.Outcome.ACCEPTED, 0));
      assertThat(s.ledger().outcome("key:alice", "wf-1", WorkflowRecord.Outcome.REPAIRED, 3, 12.5))
          .contains(new Ledger.Replaced("support", WorkflowRecord.Outcome.REPAIRED, 2.5));
      assertThat(s.ledger().outcome("key:bob", "wf-1", WorkflowRecord.Outcome.ACCEPTED, 0, Double.NaN)).isEmpty();
      WorkflowRecord.Snapshot after = s.ledger().get("key:alice", "wf-1").orElseThrow();
      assertThat(after.outcome()).isEqualTo(WorkflowRecord.Outcome.REPAIRED);
      assertThat(after.repairMinutes()).isEqualTo(3.0);
      assertThat(after.value()).isEqualTo(12.5);
      assertThat(s.ledger().since(System.currentTimeMillis() - 60_000)).extracting(WorkflowRecord.Snapshot::id)
          .containsExactly("wf-1");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "embedded", "redis"})
  void everyRequestIsCountedPerKeyAndTeamWithItsSaving(String kind) throws Exception {
    try (StateStore s = open(kind)) {
      RequestLog a = call(null, "alice", "support", "chat_completions", 0.5);
      RequestLog b = call(null, "alice", null, "chat_completions", 0.25);
      RequestLog unpriced = call(null, "bob", null, "chat_completions", Double.NaN);
      RequestLog health = call(null, "bob", 1.0); // not an API request: not counted
      dev.llmgw.core.log.RequestLogBuilder hit = new dev.llmgw.core.log.RequestLogBuilder("rid", "POST",
          "/v1/chat/completions", "-", dev.llmgw.core.log.RequestLogListener.NOOP);
      hit.caller("alice", "support").request("chat_completions", "m", false).cacheHit("b", "m", 0.125);
      hit.end(dev.llmgw.core.log.Outcome.SERVED);
      for (RequestLog log : List.of(a, b, unpriced, health, hit.log())) {
        s.usage().add(log);
      }
      java.time.LocalDate today = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
      await().atMost(Duration.ofSeconds(5)).until(() -> s.usageSince(today).size() == 3);
      var report = dev.llmgw.core.economics.EconomicsReport.of(List.of(), s.usageSince(today), ECONOMICS, 0, 1);
      var alice = report.byKey().stream().filter(c -> c.name().equals("alice")).findFirst().orElseThrow();
      await().atMost(Duration.ofSeconds(5)).until(() -> EconomicsReportRows.requests(s.usageSince(today), "alice")
          == 3);
      report = dev.llmgw.core.economics.EconomicsReport.of(List.of(), s.usageSince(today), ECONOMICS, 0, 1);
      alice = report.byKey().stream().filter(c -> c.name().equals("alice")).findFirst().orElseThrow();
      assertThat(alice.requests()).isEqualTo(3);
      assertThat(alice.cost()).as("a cache hit costs nothing").isCloseTo(0.75, within(1e-12));
      assertThat(alice.baselineCost()).isCloseTo(3.0, within(1e-12));
      assertThat(alice.savings()).isCloseTo(2.25, within(1e-12));
      assertThat(alice.cacheHits()).isEqualTo(1);
      assertThat(alice.cacheSaved()).isCloseTo(0.125, within(1e-12));
      assertThat(report.byTeam()).singleElement().satisfies(t -> assertThat(t.cacheHits()).isEqualTo(1));
      var bob = report.byKey().stream().filter(c -> c.name().equals("bob")).findFirst().orElseThrow();
      assertThat(bob.cost()).as("unknown, never zero").isNaN();
      assertThat(bob.unpricedRequests()).isEqualTo(1);
      assertThat(report.byTeam()).extracting(dev.llmgw.core.economics.EconomicsReport.Caller::name)
          .containsExactly("support");
    }
  }

  /** Sums of the usage rows (a shared store adds them up over flushes). */
  static final class EconomicsReportRows {
    static long requests(List<dev.llmgw.core.economics.CallerUsage.Row> rows, String key) {
      return rows.stream().filter(r -> r.kind().equals("key") && r.name().equals(key))
          .mapToLong(dev.llmgw.core.economics.CallerUsage.Row::requests).sum();
    }
  }

  static RequestLog call(String workflow, String key, double cost) {
    return call(workflow, key, null, null, cost);
  }

  /** An ended request's record, as the request path writes it. */
  static RequestLog call(String workflow, String key, String team, String endpoint, double cost) {
    dev.llmgw.core.log.RequestLogBuilder log = new dev.llmgw.core.log.RequestLogBuilder("rid", "POST",
        "/v1/chat/completions", "-", dev.llmgw.core.log.RequestLogListener.NOOP);
    log.workflow(workflow, "support").caller(key, team).request(endpoint, "m", false)
        .route("balanced", "r", "rule").attemptStarted("b", "m", null, 1).usage(100, 10, 0, false)
        .cost(cost, cost * 4);
    log.end(dev.llmgw.core.log.Outcome.SERVED);
    return log.log();
  }

  @Test
  void theEmbeddedStoreKeepsSpendLedgerAndOutcomesAcrossARestartAndReleasesReservations() throws Exception {
    Access.ApiKey k = key("persist", 0, 0, TEN_CENTS, null);
    Path file = dir.resolve("state/gateway.mv");
    try (EmbeddedStore s = new EmbeddedStore(file, Duration.ofMillis(20), ECONOMICS, Clock.systemUTC())) {
      admit(s, k, null, 10, 40_000).settlement().settle(10, 40_000);
      assertThat(admit(s, k, null, 10, 40_000).allowed()).isTrue(); // in flight at the restart
      s.ledger().record(call("wf-p", "persist", 0.04));
      RequestLog counted = call(null, "persist", null, "chat_completions", 0.04);
      s.usage().add(counted);
      dev.llmgw.core.log.RequestLogBuilder hit = new dev.llmgw.core.log.RequestLogBuilder("rid", "POST",
          "/v1/chat/completions", "-", dev.llmgw.core.log.RequestLogListener.NOOP);
      hit.caller("persist", null).request("chat_completions", "m", false).cacheHit("b", "m", 0.04);
      hit.end(dev.llmgw.core.log.Outcome.SERVED);
      s.usage().add(hit.log());
      s.ledger().outcome("key:persist", "wf-p", WorkflowRecord.Outcome.ACCEPTED, 0, 5.0);
    }
    try (EmbeddedStore s = new EmbeddedStore(file, Duration.ofMillis(20), ECONOMICS, Clock.systemUTC())) {
      assertThat(s.spentUsd("key:persist")).as("spent before the restart").isCloseTo(0.04, within(1e-9));
      // the in-flight reservation ended with the process: $0.06 left, one more $0.04 call fits
      assertThat(admit(s, k, null, 10, 40_000).allowed()).isTrue();
      assertThat(admit(s, k, null, 10, 40_000).allowed()).isFalse();
      WorkflowRecord.Snapshot w = s.ledger().get("key:persist", "wf-p").orElseThrow();
      assertThat(w.cost()).isCloseTo(0.04, within(1e-12));
      assertThat(w.outcome()).isEqualTo(WorkflowRecord.Outcome.ACCEPTED);
      assertThat(w.value()).isEqualTo(5.0);
      assertThat(s.usageSince(java.time.LocalDate.now(java.time.ZoneOffset.UTC)))
          .singleElement().satisfies(r -> {
            assertThat(r.requests()).isEqualTo(2);
            assertThat(r.cacheHits()).isEqualTo(1);
            assertThat(r.cacheSaved()).isCloseTo(0.04, within(1e-12));
          });
    }
  }

  @Test
  void theEmbeddedStoreWritesWithinItsFlushInterval() throws Exception {
    Path file = dir.resolve("flush.mv");
    try (EmbeddedStore s = new EmbeddedStore(file, Duration.ofMillis(50), ECONOMICS, Clock.systemUTC())) {
      Access.ApiKey k = key("f", 0, 0, TEN_CENTS, null);
      admit(s, k, null, 10, 1_000).settlement().settle(10, 1_000);
      assertThat(s.pendingWrites()).isEqualTo(1);
      await().atMost(Duration.ofSeconds(2)).until(() -> s.pendingWrites() == 0 && s.commits() > 0);
    }
  }

  @Test
  void aBrokenStateFileIsRefusedWithItsPathAndWhatToDo() throws Exception {
    Path corrupt = dir.resolve("corrupt.mv");
    Files.write(corrupt, "this is not an MVStore file, just some text that is long enough".repeat(200).getBytes());
    assertThatThrownBy(() -> new EmbeddedStore(corrupt, Duration.ofMillis(20), ECONOMICS, Clock.systemUTC()))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining(corrupt.toString())
        .hasMessageContaining("move it away");
    Path locked = dir.resolve("locked.mv");
    try (EmbeddedStore first = new EmbeddedStore(locked, Duration.ofMillis(20), ECONOMICS, Clock.systemUTC())) {
      assertThatThrownBy(() -> new EmbeddedStore(locked, Duration.ofMillis(20), ECONOMICS, Clock.systemUTC()))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining(locked.toString())
          .hasMessageContaining("another gateway process");
    }
    Path readOnlyDir = dir.resolve("ro");
    Files.createDirectories(readOnlyDir);
    Path ro = readOnlyDir.resolve("gateway.mv");
    try (EmbeddedStore s = new EmbeddedStore(ro, Duration.ofMillis(20), ECONOMICS, Clock.systemUTC())) {
      assertThat(s.kind()).isEqualTo("embedded");
    }
    assertThat(ro.toFile().setWritable(false)).isTrue();
    if (!Files.isWritable(ro)) { // root ignores file modes
      assertThatThrownBy(() -> new EmbeddedStore(ro, Duration.ofMillis(20), ECONOMICS, Clock.systemUTC()))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("not writable");
    }
  }

  @Test
  void aWrongRedisUrlIsRefusedAtStartWithTheTargetButNeverThePassword() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    StateSettings wrong = new StateSettings(StateSettings.Store.REDIS, null, StateSettings.DEFAULT_FLUSH,
        "redis://:hunter2-secret@127.0.0.1:" + closedPort, "x:", Duration.ofMillis(300), true);
    assertThatThrownBy(() -> new RedisStore(wrong, ECONOMICS, Clock.systemUTC(), new SimpleMeterRegistry()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("redis://127.0.0.1:" + closedPort)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
    assertThat(wrong.toString()).doesNotContain("hunter2");
  }

  @Test
  void twoGatewaysOnOneRedisHoldOneBudgetUnderConcurrency() throws Exception {
    String prefix = "shared-" + System.nanoTime() + ":";
    Access.ApiKey k = key("shared", 0, 0, TEN_CENTS, null);
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try (StateStore a = redisStore(prefix, true); StateStore b = redisStore(prefix, true)) {
      List<CompletableFuture<StateStore.Grant>> all = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        StateStore s = i % 2 == 0 ? a : b;
        all.add(CompletableFuture.supplyAsync(() -> s.admit(k, null, 10, 10_000), pool)
            .thenCompose(f -> f));
      }
      List<StateStore.Grant> granted = new ArrayList<>();
      for (CompletableFuture<StateStore.Grant> f : all) {
        StateStore.Grant g = f.get(10, TimeUnit.SECONDS);
        if (g.allowed()) {
          granted.add(g);
        }
      }
      assertThat(granted).hasSize(10);
      for (StateStore.Grant g : granted) {
        g.settlement().settle(10, 10_000);
        g.settlement().settle(10, 10_000); // a second settlement of the same grant adds nothing
      }
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
        assertThat(a.spentUsd("key:shared")).isCloseTo(0.10, within(1e-9));
        assertThat(b.spentUsd("key:shared")).isCloseTo(0.10, within(1e-9));
      });
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void redisDownFailsOpenWithLocalLimitsOrClosedWith503AndRecoversByItself() throws Exception {
    RedisServer own = RedisServer.start();
    StateSettings open = new StateSettings(StateSettings.Store.REDIS, null, StateSettings.DEFAULT_FLUSH, own.url(),
        "f:", Duration.ofMillis(200), true);
    StateSettings closed = new StateSettings(StateSettings.Store.REDIS, null, StateSettings.DEFAULT_FLUSH, own.url(),
        "f:", Duration.ofMillis(200), false);
    Access.ApiKey k = key("down", 0, 0, new Access.Budget(Access.Period.DAY, 1.0, Double.NaN, false), null);
    try (RedisStore failOpen = new RedisStore(open, ECONOMICS, Clock.systemUTC(), new SimpleMeterRegistry());
        RedisStore failClosed = new RedisStore(closed, ECONOMICS, Clock.systemUTC(), new SimpleMeterRegistry())) {
      assertThat(admit(failOpen, k, null, 10, 1000).allowed()).isTrue();
      own.kill();
      long t0 = System.nanoTime();
      StateStore.Grant local = admit(failOpen, k, null, 10, 1000);
      assertThat(local.allowed()).as("failOpen admits with local limits").isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
      local.settlement().settle(10, 250_000); // spent while Redis is away: queued for it
      assertThatThrownBy(() -> admit(failClosed, k, null, 10, 1000)).hasCauseInstanceOf(
          StateUnavailableException.class);
      // the failOpen store admitted from capacity it had leased; its health check notices within a second
      await().atMost(Duration.ofSeconds(5)).until(() -> !failOpen.health().up());
      own.restart(); // empty: nothing persisted
      await().atMost(Duration.ofSeconds(10)).until(() -> failOpen.health().up() && failClosed.health().up());
      assertThat(admit(failClosed, k, null, 10, 1000).allowed()).isTrue();
      // what was spent while Redis was down reached it once it came back
      assertThat(failOpen.spentUsd("key:down")).isCloseTo(0.25, within(1e-9));
    } finally {
      own.close();
    }
  }
}
