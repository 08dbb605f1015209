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

  @Test
  void envNames() {
    assertThat(ConfigValues.envName("OPENAI_API_KEY")).isEqualTo("OPENAI_API_KEY");
    assertThat(ConfigValues.envName("_x1")).isEqualTo("_x1");
    assertThatThrownBy(() -> ConfigValues.envName("1KEY")).hasMessageContaining("'1KEY'");
    assertThatThrownBy(() -> ConfigValues.envName("MY-KEY")).hasMessageContaining("'MY-KEY'");
  }
}
