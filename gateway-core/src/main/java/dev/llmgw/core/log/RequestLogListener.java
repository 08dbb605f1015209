package dev.llmgw.core.log;

import java.util.List;

/**
 * Told once, when a request's log ends (on the event loop that ended it): access log, metrics,
 * ledger, budget settlement. Must not block; a listener that throws is logged and the others still run.
 */
@FunctionalInterface
public interface RequestLogListener {
  RequestLogListener NOOP = log -> {};

  void onEnd(RequestLog log);

  /** Tells each of {@code listeners} in order. */
  static RequestLogListener of(List<RequestLogListener> listeners) {
    RequestLogListener[] all = listeners.stream().filter(l -> l != NOOP).toArray(RequestLogListener[]::new);
    if (all.length == 0) {
      return NOOP;
    }
    if (all.length == 1) {
      return all[0];
    }
    return log -> {
      for (RequestLogListener l : all) {
        RequestLogBuilder.notify(l, log);
      }
    };
  }
}
