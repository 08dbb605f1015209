package dev.llmgw.server.security;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.LoggerFactory;

/**
 * Captures every log event the gateway emits, synchronously, while open: a plain appender added to
 * the root logger and to the {@code access} logger (which does not propagate to root). Each event is
 * kept as its full text — logger, level, formatted message, the raw arguments, MDC and the whole
 * stack trace of any throwable — so a secret can be searched for wherever it could end up.
 *
 * <p>The test's own backends (WireMock and its embedded Jetty) log what they receive, the provider
 * key included, by design: their loggers are left out.
 */
final class LogCapture implements AutoCloseable {
  private static final String[] BACKEND_LOGGERS = {"wiremock.", "com.github.tomakehurst", "org.eclipse.jetty"};

  private final ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<String> accessLines = new ConcurrentLinkedQueue<>();
  private final List<Logger> attached = new ArrayList<>();
  private final Map<Logger, Level> savedLevels = new HashMap<>();
  private final AppenderBase<ILoggingEvent> appender;

  private LogCapture() {
    appender = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        record(e);
      }
    };
  }

  /**
   * Starts capturing; the named loggers are raised to DEBUG until {@link #close()}.
   */
  static LogCapture start(String... debugLoggers) {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    LogCapture c = new LogCapture();
    c.appender.setContext(ctx);
    c.appender.setName("security-capture-" + System.identityHashCode(c));
    c.appender.start();
    for (String name : new String[] {org.slf4j.Logger.ROOT_LOGGER_NAME, "access"}) {
      Logger l = ctx.getLogger(name);
      l.addAppender(c.appender);
      c.attached.add(l);
    }
    for (String name : debugLoggers) {
      Logger l = ctx.getLogger(name);
      c.savedLevels.put(l, l.getLevel());
      l.setLevel(Level.DEBUG);
    }
    return c;
  }

  private void record(ILoggingEvent e) {
    String logger = e.getLoggerName();
    for (String b : BACKEND_LOGGERS) {
      if (logger.startsWith(b)) {
        return;
      }
    }
    StringBuilder sb = new StringBuilder(256);
    sb.append(e.getLevel()).append(' ').append(logger).append(" [").append(e.getThreadName()).append("] ")
        .append(e.getFormattedMessage());
    if (e.getArgumentArray() != null) {
      for (Object arg : e.getArgumentArray()) {
        sb.append(" | arg=").append(arg);
      }
    }
    if (e.getMDCPropertyMap() != null && !e.getMDCPropertyMap().isEmpty()) {
      sb.append(" | mdc=").append(e.getMDCPropertyMap());
    }
    IThrowableProxy t = e.getThrowableProxy();
    if (t != null) {
      sb.append('\n').append(ThrowableProxyUtil.asString(t));
    }
    String text = sb.toString();
    events.add(text);
    if ("access".equals(logger)) {
      for (String line : e.getFormattedMessage().split("\n")) { // AccessLog batches lines per event loop
        accessLines.add(line);
      }
    }
  }

  /** Every captured event, as text. */
  List<String> events() {
    return List.copyOf(events);
  }

  /** The access-log lines captured so far. */
  List<String> accessLines() {
    return List.copyOf(accessLines);
  }

  int accessLineCount() {
    return accessLines.size();
  }

  @Override
  public void close() {
    for (Logger l : attached) {
      l.detachAppender(appender);
    }
    savedLevels.forEach(Logger::setLevel);
    appender.stop();
  }
}
