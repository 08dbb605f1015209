package dev.llmgw.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Per-alias fallbacks and prices: the shipped values, and every mistake reported at once. */
class ConfigFallbackPriceTest {
  private static final Path SHIPPED = Path.of("..", "config", "gateway.yaml");

  @Test
  void shippedFallbacksAndPrices() throws Exception {
    GatewayConfig c = ConfigLoader.load(SHIPPED, Map.of("OPENAI_API_KEY", "sk-x"));
    assertThat(c.models().get("gpt-4o").fallbacks()).containsExactly("gpt-4o-mini", "local");
    assertThat(c.models().get("gpt-4o").price()).isEqualTo(new Price(2.50, 1.25, 10.00));
    assertThat(c.models().get("local").price()).isEqualTo(Price.FREE);
    assertThat(c.models().get("text-embedding-3-small").price().cachedInput()).isEqualTo(0.02);
  }

  @Test
  void priceArithmetic() {
    Price p = new Price(2.50, 1.25, 10.00);
    // 1,000 prompt tokens of which 400 cached, 500 completion tokens
    assertThat(p.cost(1000, 400, 500)).isCloseTo((600 * 2.50 + 400 * 1.25 + 500 * 10.0) / 1e6,
        org.assertj.core.data.Offset.offset(1e-12));
  }

  @Test
  void badFallbacksAndPricesAreAllReported() {
    String yaml = """
        backends:
          b:
            baseUrl: http://127.0.0.1:1/v1
            models: [m1, m2]
        models:
          one:
            backend: b
            model: m1
            fallbacks: [nope, one, two, two]
            price: { input: -1, output: lots }
          two:
            backend: b
            model: m2
            price: { input: 1 }
        """;
    ConfigException e = catchThrowableOfType(() -> ConfigLoader.parse(Path.of("f.yaml"), yaml, Map.of()),
        ConfigException.class);
    List<String> lines = e.errors().stream().map(ConfigError::toString).toList();
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("models.one.fallbacks[0]").contains("'nope'"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("models.one.fallbacks[1]").contains("itself"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("models.one.fallbacks[3]").contains("twice"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("models.one.price.input").contains("'-1'"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("models.one.price.output").contains("'lots'"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("models.two.price.output"));
  }

  @Test
  void shippedEconomics() throws Exception {
    GatewayConfig c = ConfigLoader.load(SHIPPED, Map.of());
    assertThat(c.economics().workflowTypes()).containsKeys("support-reply", "contract-review", "code-change");
    assertThat(c.economics().repairCostPerMinute("contract-review")).isEqualTo(2.00);
    assertThat(c.economics().typeOf("made-up")).isEqualTo(Economics.OTHER);
    assertThat(c.economics().typeOf(null)).isNull();
  }

  @Test
  void badEconomicsIsReported() {
    String yaml = """
        backends:
          b: { baseUrl: http://127.0.0.1:1/v1, models: [m1] }
        models:
          one: { backend: b, model: m1 }
        economics:
          workflowTypes:
            Bad Name: { repairCostPerMinute: 1 }
            other: {}
            ok: { repairCostPerMinute: cheap }
          maxWorkflows: 0
          baselineModel: nope
        """;
    ConfigException e = catchThrowableOfType(() -> ConfigLoader.parse(Path.of("f.yaml"), yaml, Map.of()),
        ConfigException.class);
    List<String> lines = e.errors().stream().map(ConfigError::toString).toList();
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("economics.workflowTypes").contains("'Bad Name'"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("economics.workflowTypes.other").contains("reserved"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("economics.workflowTypes.ok.repairCostPerMinute"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("economics.maxWorkflows"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("economics.baselineModel").contains("'nope'"));
  }
}
