package dev.llmgw.core.exchange;

import dev.llmgw.core.access.AccessControl;
import dev.llmgw.core.log.RequestLogListener;
import dev.llmgw.core.resilience.BackendGuards;
import dev.llmgw.core.resilience.LocalModelHint;
import dev.llmgw.core.route.TierClassifier;
import dev.llmgw.core.trace.Tracing;
import dev.llmgw.core.upstream.ConnectionSource;

/**
 * The process-wide services every request uses.
 *
 * @param pools  where attempts get their backend connections ({@link dev.llmgw.core.upstream.BackendPools})
 * @param events attempt-level events as they happen (metrics)
 * @param sinks  told of every ended request: metrics, access log, ledger (one listener per sink)
 * @param cache  the exact response cache (process-wide; configured from each request's snapshot)
 * @param hint   how to point the gateway at a model, added to errors when no local model is up
 * @param tracing where each request's trace starts ({@link Tracing#OFF} when tracing is off)
 */
public record ExchangeServices(ConnectionSource pools, BackendGuards guards, ExchangeEvents events,
    AccessControl access, TierClassifier classifier, RequestLogListener sinks,
    dev.llmgw.core.cache.ResponseCache cache, LocalModelHint hint, Tracing tracing) {

  public ExchangeServices(ConnectionSource pools, BackendGuards guards, ExchangeEvents events,
      AccessControl access, TierClassifier classifier, RequestLogListener sinks,
      dev.llmgw.core.cache.ResponseCache cache, LocalModelHint hint) {
    this(pools, guards, events, access, classifier, sinks, cache, hint, Tracing.OFF);
  }

  public ExchangeServices(ConnectionSource pools, BackendGuards guards, ExchangeEvents events,
      AccessControl access, TierClassifier classifier, RequestLogListener sinks,
      dev.llmgw.core.cache.ResponseCache cache) {
    this(pools, guards, events, access, classifier, sinks, cache, LocalModelHint.NONE);
  }

  public ExchangeServices(ConnectionSource pools, BackendGuards guards, ExchangeEvents events,
      AccessControl access, TierClassifier classifier, RequestLogListener sinks) {
    this(pools, guards, events, access, classifier, sinks, new dev.llmgw.core.cache.ResponseCache());
  }

  public ExchangeServices(ConnectionSource pools, BackendGuards guards, ExchangeEvents events) {
    this(pools, guards, events, new AccessControl(java.time.Clock.systemUTC()));
  }

  public ExchangeServices(ConnectionSource pools, BackendGuards guards, ExchangeEvents events,
      AccessControl access) {
    this(pools, guards, events, access, new TierClassifier(), RequestLogListener.NOOP);
  }
}
