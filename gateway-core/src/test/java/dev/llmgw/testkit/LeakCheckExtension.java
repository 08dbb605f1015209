package dev.llmgw.testkit;

import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reports a buffer leak during (or before) it. Registered for every
 * test through JUnit's extension auto-detection (META-INF/services plus
 * {@code junit.jupiter.extensions.autodetection.enabled=true} in the parent pom), so no test can
 * forget it. {@code LeakDetectionSelfTest} proves that it catches a deliberate leak.
 */
public final class LeakCheckExtension implements BeforeAllCallback, AfterAllCallback {
  static {
    LeakDetection.install();
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    LeakDetection.install();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    List<String> leaks = LeakDetection.collectLeaks();
    if (!leaks.isEmpty()) {
      throw new AssertionError(leaks.size() + " ByteBuf leak(s) reported during "
          + context.getDisplayName() + ":\n" + String.join("\n\n", leaks));
    }
  }
}
