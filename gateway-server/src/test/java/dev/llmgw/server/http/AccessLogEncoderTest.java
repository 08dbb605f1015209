package dev.llmgw.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class AccessLogEncoderTest {
  private final LoggerContext context = new LoggerContext();
  private final AccessLogEncoder encoder = new AccessLogEncoder();

  private String encode(String message) {
    LoggingEvent e = new LoggingEvent(AccessLogEncoderTest.class.getName(), context.getLogger("access"), Level.INFO,
        message, null, null);
    return new String(encoder.encode(e), StandardCharsets.UTF_8);
  }

  @Test
  void aBatchOfEndedLinesIsWrittenAsItIs() {
    String batch = "2026-11-27T08:00:00.001Z access rid=a\n2026-11-27T08:00:00.002Z access rid=b caf\u00e9\n";
    assertThat(encode(batch)).isEqualTo(batch);
  }

  @Test
  void aLineWithoutItsEndGetsOne() {
    assertThat(encode("one line")).isEqualTo("one line\n");
    assertThat(encode("")).isEmpty();
    assertThat(encoder.headerBytes()).isEmpty();
    assertThat(encoder.footerBytes()).isEmpty();
  }
}
