package dev.llmgw.core.route;

import java.time.Duration;

/**
 * The time and capacity limits of the classifier stage, from {@code routing.yaml}'s {@code
 * classifier} section.
 *
 * @param semanticTimeout how long a request may wait for its semantic score, queueing included
 * @param judgeTimeout    the judge's latency budget per request
 * @param judgeCacheSize  judge verdicts kept (by a hash of the classified text)
 * @param threads         classifier threads (embedding is CPU work; off the event loops)
 * @param queue           requests that may wait for a classifier thread, and judge calls in flight;
 *                        more get the safe tier
 */
public record ClassifierSettings(Duration semanticTimeout, Duration judgeTimeout,
    int judgeCacheSize, int threads, int queue) {

  public static final ClassifierSettings DEFAULTS =
      new ClassifierSettings(Duration.ofMillis(250), Duration.ofSeconds(2), 10_000, 1, 256);
}
