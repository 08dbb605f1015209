package dev.llmgw.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Proves the build's leak check works: a buffer dropped without release is reported. */
class LeakDetectionSelfTest {

  @Test
  void aDroppedBufferIsReported() {
    assertThat(ResourceLeakDetector.getLevel())
        .as("tests must run with -Dio.netty.leakDetection.level=paranoid")
        .isEqualTo(ResourceLeakDetector.Level.PARANOID);
    leakOne();
    List<String> leaks = LeakDetection.collectLeaks(); // also clears them, so this class passes
    assertThat(leaks).anySatisfy(l -> assertThat(l).contains("LEAK").contains("deliberate-leak"));
  }

  private static void leakOne() {
    ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(64);
    b.writeLong(42);
    b.touch("deliberate-leak");
    // dropped without release() on purpose
  }
}
