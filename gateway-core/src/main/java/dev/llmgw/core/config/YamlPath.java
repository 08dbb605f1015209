package dev.llmgw.core.config;

import com.fasterxml.jackson.core.JsonStreamContext;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Dotted paths into the YAML document ({@code backends.openai.timeouts.connect},
 * {@code backends.local.models[0]}), built the same way by the location index, the binder and the
 * compiler so that a path found by one can be looked up in the other.
 */
final class YamlPath {

  private YamlPath() {}

  static String child(String parent, String key) {
    return parent.isEmpty() ? key : parent + "." + key;
  }

  static String element(String parent, int index) {
    return parent + "[" + index + "]";
  }

  /** The path of the value a parser is at (for a field name: the path of that field). */
  static String of(JsonStreamContext context) {
    Deque<JsonStreamContext> chain = new ArrayDeque<>();
    for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
      chain.push(c);
    }
    String path = "";
    for (JsonStreamContext c : chain) {
      if (c.inObject() && c.hasCurrentName()) {
        path = child(path, c.getCurrentName());
      } else if (c.inArray() && c.hasCurrentIndex()) {
        path = element(path, c.getCurrentIndex());
      }
    }
    return path;
  }
}
