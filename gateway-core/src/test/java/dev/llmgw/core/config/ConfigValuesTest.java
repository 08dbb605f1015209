package dev.llmgw.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigValuesTest {

  @ParameterizedTest
  @CsvSource({"1024, 1024", "1B, 1", "512KB, 512000", "16KiB, 16384", "16kib, 16384",
      "1MiB, 1048576", "1 MiB, 1048576", "2mb, 2000000", "1GiB, 1073741824"})
  void sizes(String text, int bytes) {
    assertThat(ConfigValues.size(text)).isEqualTo(bytes);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "abc", "1.5MiB", "-1", "1TB", "MiB", "0", "0KiB", "2GiB",
      "99999999999999999999"})
  void badSizes(String text) {
    assertThatThrownBy(() -> ConfigValues.size(text)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "'").hasMessageContaining("expected");
  }

  @ParameterizedTest
  @CsvSource({"500ms, 500", "2s, 2000", "1m, 60000", "10m, 600000", "1h, 3600000",
      "24h, 86400000", "90S, 90000"})
  void durations(String text, long millis) {
    assertThat(ConfigValues.duration(text)).isEqualTo(Duration.ofMillis(millis));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "abc", "2", "1.5s", "-1s", "0s", "0ms", "25h", "1d", "2 sec",
      "99999999999999999999h"})
  void badDurations(String text) {
    assertThatThrownBy(() -> ConfigValues.duration(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "'").hasMessageContaining("expected");
  }

  @Test
  void ports() {
    assertThat(ConfigValues.port("0")).isZero();
    assertThat(ConfigValues.port("65535")).isEqualTo(65535);
    for (String bad : new String[] {"65536", "-1", "http", "80.0", "123456"}) {
      assertThatThrownBy(() -> ConfigValues.port(bad))
          .hasMessage("'" + bad + "' is not a port (expected an integer 0..65535)");
    }
  }

  @Test
  void baseUrls() {
    assertThat(ConfigValues.baseUrl("http://127.0.0.1:8081/v1"))
        .isEqualTo(URI.create("http://127.0.0.1:8081/v1"));
    assertThat(ConfigValues.baseUrl("HTTPS://api.openai.com/v1"))
        .isEqualTo(URI.create("https://api.openai.com/v1"));
    assertThat(ConfigValues.baseUrl("http://[::1]:8000")).hasHost("[::1]");
    for (String bad : new String[] {"127.0.0.1:8081/v1", "/v1", "ftp://h/v1", "http:///v1",
        "http://h/v1?x=1", "http://h/v1#f", "http://u:p@h/v1", "http://h x/"}) {
      assertThatThrownBy(() -> ConfigValues.baseUrl(bad))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected");
    }
  }

  @ParameterizedTest
  @CsvSource({"50%, 50", "50, 50", "12.5%, 12.5", "12.5, 12.5", "100%, 100", "100, 100",
      "0.5%, 0.5", "1, 1", "1.5, 1.5", "50 %, 50"})
  void percentages(String text, float percent) {
    assertThat(ConfigValues.percent(text)).isEqualTo(percent);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "abc", "0", "0%", "0.0%", "100.5%", "101", "150%", "-5%", "50%%",
      "0.5", "half", "5e1"})
  void badPercentages(String text) {
    assertThatThrownBy(() -> ConfigValues.percent(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "'").hasMessageContaining("expected");
  }

  @Test
  void aFractionBelowOneIsAmbiguous() {
    assertThatThrownBy(() -> ConfigValues.percent("0.25")).hasMessage("'0.25' is ambiguous"
        + " (expected a percentage such as 25%; write 0.25% if 0.25 percent is meant)");
  }

  @Test
  void integersInARange() {
    assertThat(ConfigValues.intIn("1", 1, 10, "x")).isEqualTo(1);
    assertThat(ConfigValues.intIn("10", 1, 10, "x")).isEqualTo(10);
    assertThat(ConfigValues.intIn("+7", 1, 10, "x")).isEqualTo(7);
    assertThat(ConfigValues.intIn("0", 0, Integer.MAX_VALUE, "x")).isZero();
    assertThat(ConfigValues.intIn("2147483647", 0, Integer.MAX_VALUE, "x"))
        .isEqualTo(Integer.MAX_VALUE);
    assertThatThrownBy(() -> ConfigValues.intIn("11", 1, 10, "an integer 1..10"))
        .hasMessage("'11' is out of range (expected an integer 1..10)");
    assertThatThrownBy(() -> ConfigValues.intIn("0", 1, 10, "an integer 1..10"))
        .hasMessage("'0' is out of range (expected an integer 1..10)");
    assertThatThrownBy(() -> ConfigValues.intIn("-3", 1, 10, "an integer 1..10"))
        .hasMessage("'-3' is out of range (expected an integer 1..10)");
    assertThatThrownBy(() -> ConfigValues.intIn("99999999999999999999", 1, 10, "e"))
        .hasMessage("'99999999999999999999' is out of range (expected e)");
    assertThatThrownBy(() -> ConfigValues.intIn("2147483648", 0, Integer.MAX_VALUE, "e"))
        .hasMessageContaining("out of range");
    for (String bad : new String[] {"", "2.0", "ten", "1e3", "0x10"}) {
      assertThatThrownBy(() -> ConfigValues.intIn(bad, 1, 10, "e"))
          .hasMessage("'" + bad + "' is not an integer (expected e)");
    }
  }

  @Test
  void multipliers() {
    assertThat(ConfigValues.multiplier("1")).isEqualTo(1.0);
    assertThat(ConfigValues.multiplier("2.0")).isEqualTo(2.0);
    assertThat(ConfigValues.multiplier("1.5")).isEqualTo(1.5);
    assertThatThrownBy(() -> ConfigValues.multiplier("0.9"))
        .hasMessage("'0.9' is less than 1.0 (expected a number of at least 1.0, e.g. 2.0)");
    for (String bad : new String[] {"", "x2", "-2", "2,5", "1e1", ".5", "NaN", "Infinity"}) {
      assertThatThrownBy(() -> ConfigValues.multiplier(bad))
          .hasMessageContaining("'" + bad + "' is not a number");
    }
  }

  @Test
  void healthPaths() {
    assertThat(ConfigValues.healthPath("/models")).isEqualTo("/models");
    assertThat(ConfigValues.healthPath("/")).isEqualTo("/");
    assertThat(ConfigValues.healthPath("/health?deep=1")).isEqualTo("/health?deep=1");
    assertThatThrownBy(() -> ConfigValues.healthPath("models"))
        .hasMessageStartingWith("'models' does not start with '/'");
    assertThatThrownBy(() -> ConfigValues.healthPath("http://h/models"))
        .hasMessageStartingWith("'http://h/models' does not start with '/'");
    for (String bad : new String[] {"/a b", "/models#x", "/a|b", "/%zz"}) {
      assertThatThrownBy(() -> ConfigValues.healthPath(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'" + bad + "'").hasMessageContaining("expected a path");
    }
  }

  @Test
  void envNames() {
    assertThat(ConfigValues.envName("OPENAI_API_KEY")).isEqualTo("OPENAI_API_KEY");
    assertThat(ConfigValues.envName("_x1")).isEqualTo("_x1");
    // the refusal never repeats the value: operators paste the key itself there by mistake
    assertThatThrownBy(() -> ConfigValues.envName("1KEY")).hasMessageContaining("not an environment variable name")
        .hasMessageNotContaining("1KEY");
    assertThatThrownBy(() -> ConfigValues.envName("sk-live-abc123")).hasMessageNotContaining("sk-live");
  }

  @Test
  void booleans() {
    assertThat(ConfigValues.bool("true")).isTrue();
    assertThat(ConfigValues.bool("FALSE")).isFalse();
    for (String bad : new String[] {"", "yes", "1", "on", "truee"}) {
      assertThatThrownBy(() -> ConfigValues.bool(bad))
          .hasMessage("'" + bad + "' is not a boolean (expected true or false)");
    }
  }

  @Test
  void longs() {
    assertThat(ConfigValues.longIn("0", 0, Long.MAX_VALUE, "e")).isZero();
    assertThat(ConfigValues.longIn("9223372036854775807", 0, Long.MAX_VALUE, "e"))
        .isEqualTo(Long.MAX_VALUE);
    assertThatThrownBy(() -> ConfigValues.longIn("9223372036854775808", 0, Long.MAX_VALUE, "e"))
        .hasMessage("'9223372036854775808' is out of range (expected e)");
    assertThatThrownBy(() -> ConfigValues.longIn("-1", 0, 10, "e"))
        .hasMessage("'-1' is out of range (expected e)");
    assertThatThrownBy(() -> ConfigValues.longIn("1.5", 0, 10, "e"))
        .hasMessage("'1.5' is not an integer (expected e)");
  }

  @Test
  void money() {
    assertThat(ConfigValues.money("0", "e")).isZero();
    assertThat(ConfigValues.money("5.00", "e")).isEqualTo(5.0);
    assertThat(ConfigValues.money("1234.5", "e")).isEqualTo(1234.5);
    for (String bad : new String[] {"", "-1", "1e3", "NaN", "Infinity", "$5", "5.", ".5", "5,00"}) {
      assertThatThrownBy(() -> ConfigValues.money(bad, "e"))
          .hasMessage("'" + bad + "' is not an amount (expected e)");
    }
  }

  @Test
  void sha256HashesAreNormalizedAndNeverRepeated() {
    String hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    assertThat(ConfigValues.sha256(hash)).isEqualTo(hash);
    assertThat(ConfigValues.sha256(hash.toUpperCase())).isEqualTo(hash);
    for (String bad : new String[] {"", "sk-live-secret", hash.substring(1), hash + "0",
        hash.replace('f', 'g')}) {
      assertThatThrownBy(() -> ConfigValues.sha256(bad))
          .hasMessageStartingWith("is not a SHA-256 hash (expected 64 hex digits")
          .satisfies(e -> assertThat(bad.isEmpty() || !e.getMessage().contains(bad)).isTrue());
    }
  }
}
