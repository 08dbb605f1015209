package dev.llmgw.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Records every leak Netty's detector reports, so that a test run can fail on one instead of only
 * logging it. {@link #install()} must run before the first {@code ByteBuf} class is initialised
 * (the buffer classes take their detector once, statically); {@link LeakCheckExtension} does that
 * for every test class, and the surefire/failsafe config sets paranoid level so every buffer is
 * tracked.
 */
public final class LeakDetection {
  private static final List<String> LEAKS = new ArrayList<>();
  private static boolean installed;

  private LeakDetection() {}

  public static synchronized void install() {
    if (installed) {
      return;
    }
    installed = true;
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
  }

  /** Collects garbage and gives the detectors a chance to report what was dropped unreleased. */
  public static List<String> collectLeaks() {
    for (int i = 0; i < 5; i++) {
      System.gc();
      System.runFinalization();
      // detection happens when a tracked object is allocated: allocate from every allocator in use
      for (int j = 0; j < 16; j++) {
        release(PooledByteBufAllocator.DEFAULT.buffer(1));
        release(PooledByteBufAllocator.DEFAULT.directBuffer(1));
        release(UnpooledByteBufAllocator.DEFAULT.buffer(1));
        release(UnpooledByteBufAllocator.DEFAULT.directBuffer(1));
      }
    }
    synchronized (LEAKS) {
      List<String> out = new ArrayList<>(LEAKS);
      LEAKS.clear();
      return out;
    }
  }

  private static void release(ByteBuf b) {
    b.release();
  }

  private static final class RecordingFactory extends ResourceLeakDetectorFactory {
    @Override
    @SuppressWarnings("deprecation")
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
        long maxActive) {
      return new RecordingDetector<>(resource, samplingInterval);
    }

    @Override
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
      return new RecordingDetector<>(resource, samplingInterval);
    }
  }

  private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {
    RecordingDetector(Class<T> resource, int samplingInterval) {
      super(resource, samplingInterval);
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
      synchronized (LEAKS) {
        LEAKS.add("LEAK: " + resourceType + records);
      }
      super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
      synchronized (LEAKS) {
        LEAKS.add("LEAK: " + resourceType + " (untraced)");
      }
      super.reportUntracedLeak(resourceType);
    }
  }
}
