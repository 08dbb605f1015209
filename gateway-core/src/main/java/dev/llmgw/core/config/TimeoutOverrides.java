package dev.llmgw.core.config;

import java.time.Duration;

/**
 * A tier's overrides of its backends' timeouts (routing.yaml {@code tiers.<tier>.timeouts}); null
 * fields keep the backend's value. The connect timeout belongs to the backend's connection pool and
 * is not overridden per tier.
 */
public record TimeoutOverrides(Duration firstByte, Duration idle, Duration total) {
  public static final TimeoutOverrides NONE = new TimeoutOverrides(null, null, null);

  public Timeouts applyTo(Timeouts base) {
    if (this == NONE) {
      return base;
    }
    return new Timeouts(base.connect(), firstByte != null ? firstByte : base.firstByte(),
        idle != null ? idle : base.idle(), total != null ? total : base.total());
  }
}
