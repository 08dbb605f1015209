package dev.llmgw.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code cache} section: defaults, values, and every mistake reported at once with its line. */
class CacheConfigTest {
  private static final String BASE = """
      auth: { open: true }
      backends:
        b: { baseUrl: http://127.0.0.1:1/v1, models: [m1, m2] }
      models:
        one: { backend: b, model: m1 }
        two: { backend: b, model: m2 }
      """;

  @Test
  void absentMeansOff() throws Exception {
    GatewayConfig c = ConfigLoader.parse(Path.of("f.yaml"), BASE, Map.of());
    assertThat(c.cache().enabled()).isFalse();
    assertThat(c.cache().covers("one", null)).isFalse();
  }

  @Test
  void valuesAndDefaults() throws Exception {
    GatewayConfig c = ConfigLoader.parse(Path.of("f.yaml"), BASE + """
        cache:
          models: [one]
          tiers: [trivial]
          ttl: 5m
          maxBytes: 8MiB
        """, Map.of());
    CacheSettings s = c.cache();
    assertThat(s.enabled()).isTrue();
    assertThat(s.covers("one", null)).isTrue();
    assertThat(s.covers("two", "trivial")).isTrue();
    assertThat(s.covers("two", "balanced")).isFalse();
    assertThat(s.ttl()).isEqualTo(Duration.ofMinutes(5));
    assertThat(s.maxBytes()).isEqualTo(8L << 20);
    assertThat(s.maxEntryBytes()).isEqualTo(CacheSettings.DEFAULT_MAX_ENTRY_BYTES);
    assertThat(s.perTeam()).isTrue();
    assertThat(s.deterministicOnly()).isTrue();
    assertThat(s.tierLines()).containsEntry("trivial", 9);
  }

  @Test
  void mistakesAreAllReportedWithTheirLines() {
    String yaml = BASE + """
        cache:
          models: [one, nope, one]
          tiers: [Bad Tier]
          ttl: forever
          maxBytes: lots
          scope: everyone
          deterministicOnly: maybe
        """;
    ConfigException e = catchThrowableOfType(() -> ConfigLoader.parse(Path.of("f.yaml"), yaml, Map.of()),
        ConfigException.class);
    List<String> lines = e.errors().stream().map(ConfigError::toString).toList();
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("f.yaml:8:").contains("cache.models[1]")
        .contains("'nope'").contains("one, two"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("cache.models[2]").contains("twice"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("cache.tiers[0]").contains("'Bad Tier'"));
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("f.yaml:10:").contains("cache.ttl"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("cache.maxBytes").contains("'lots'"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("cache.scope").contains("'everyone'")
        .contains("team").contains("shared"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("cache.deterministicOnly"));
  }

  @Test
  void anEntryCapOverTheTotalAndAnEmptySectionAreRefused() {
    ConfigException e = catchThrowableOfType(() -> ConfigLoader.parse(Path.of("f.yaml"), BASE + """
        cache: { models: [one], maxBytes: 1MiB, maxEntryBytes: 2MiB }
        """, Map.of()), ConfigException.class);
    assertThat(e.errors().toString()).contains("cache.maxEntryBytes").contains("larger than cache.maxBytes");
    e = catchThrowableOfType(() -> ConfigLoader.parse(Path.of("f.yaml"), BASE + "cache: { ttl: 1m }\n", Map.of()),
        ConfigException.class);
    assertThat(e.errors().toString()).contains("caches nothing");
  }

  @Test
  void aTierThatRoutingDoesNotDefineIsReportedAtItsLineInGatewayYaml(@TempDir Path dir) throws Exception {
    Path gateway = dir.resolve("gateway.yaml");
    Files.writeString(gateway, BASE + """
        cache:
          tiers: [cheap, nosuch]
        """);
    Files.writeString(dir.resolve("routing.yaml"), """
        defaultTier: cheap
        tiers:
          cheap: { targets: [one] }
        rules: []
        """);
    ConfigException e = catchThrowableOfType(() -> dev.llmgw.core.SnapshotLoader.load(dir, Map.of(), 1),
        ConfigException.class);
    assertThat(e.errors()).singleElement().satisfies(err -> {
      assertThat(err.toString()).startsWith(gateway + ":8:").contains("cache.tiers").contains("'nosuch'")
          .contains("cheap");
    });
  }

  @Test
  void theSchemaKnowsTheSection() throws Exception {
    GatewaySchemaTest.loadSchema();
    assertThat(GatewaySchemaTest.validate(BASE + """
        cache: { models: [one], tiers: [trivial], ttl: 10m, maxBytes: 64MiB, maxEntryBytes: 2MiB, scope: team,
          deterministicOnly: true }
        """)).isEmpty();
    assertThat(GatewaySchemaTest.validate(BASE + "cache: { scope: everyone, colour: red }\n")).isNotEmpty();
  }
}
