package dev.llmgw.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Libraries that log through java.util.logging (OpenTelemetry's exporter, ONNX Runtime) reach logback. */
class JavaUtilLoggingTest {

  @Test
  void aJulRecordComesOutThroughLogback() {
    Logger target = (Logger) LoggerFactory.getLogger("io.opentelemetry.exporter.test");
    ListAppender<ILoggingEvent> seen = new ListAppender<>();
    seen.start();
    target.addAppender(seen);
    try {
      Main.routeJavaUtilLogging();
      Main.routeJavaUtilLogging(); // twice: still one handler, one line per record
      java.util.logging.Logger.getLogger("io.opentelemetry.exporter.test")
          .warning("Failed to export spans. Server is UNAVAILABLE.");
      assertThat(seen.list).singleElement().satisfies(e -> {
        assertThat(e.getLevel().toString()).isEqualTo("WARN");
        assertThat(e.getFormattedMessage()).isEqualTo("Failed to export spans. Server is UNAVAILABLE.");
      });
      assertThat(java.util.logging.Logger.getLogger("").getHandlers())
          .as("JUL's own console handler is gone: no second copy on stderr")
          .allMatch(h -> h instanceof org.slf4j.bridge.SLF4JBridgeHandler);
    } finally {
      target.detachAppender(seen);
    }
  }
}
