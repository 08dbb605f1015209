package dev.llmgw.core.usage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/**
 * An independent, whole-stream reading of an SSE body (String operations and Jackson's tree model),
 * to check the tap's chunk-by-chunk results against.
 */
final class SseOracle {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private SseOracle() {}

  /** The events of {@code s}, each with its line ends and terminating blank line; a tail without one last. */
  static List<String> events(String s) {
    List<String> events = new ArrayList<>();
    StringBuilder ev = new StringBuilder();
    int i = 0;
    while (i < s.length()) {
      int lf = s.indexOf('\n', i);
      String withEnd = lf < 0 ? s.substring(i) : s.substring(i, lf + 1);
      i = lf < 0 ? s.length() : lf + 1;
      ev.append(withEnd);
      if (lf >= 0 && (withEnd.equals("\n") || withEnd.equals("\r\n"))) {
        events.add(ev.toString());
        ev.setLength(0);
      }
    }
    if (ev.length() > 0) {
      events.add(ev.toString());
    }
    return events;
  }

  static List<String> dataLines(String event) {
    List<String> data = new ArrayList<>();
    for (String line : event.split("\r?\n")) {
      if (line.startsWith("data:")) {
        data.add(line.substring(5).trim());
      }
    }
    return data;
  }

  static JsonNode json(String data) {
    try {
      return MAPPER.readTree(data);
    } catch (Exception e) {
      return null;
    }
  }

  /** Whether this complete event is what the tap must strip. */
  static boolean usageOnly(String event) {
    if (!(event.endsWith("\n\n") || event.endsWith("\r\n\r\n") || event.equals("\n") || event.equals("\r\n"))) {
      return false;
    }
    List<String> data = dataLines(event);
    if (data.size() != 1) {
      return false;
    }
    JsonNode n = json(data.get(0));
    return n != null && n.isObject() && n.path("choices").isArray() && n.path("choices").isEmpty()
        && n.path("usage").isObject();
  }

  /** The stream a client that did not ask for usage must receive. */
  static String stripped(String s) {
    StringBuilder out = new StringBuilder();
    for (String ev : events(s)) {
      if (!usageOnly(ev)) {
        out.append(ev);
      }
    }
    return out.toString();
  }

  /** The generated text: every choice's delta.content / text, in order. */
  static String text(String s) {
    StringBuilder out = new StringBuilder();
    for (String ev : events(s)) {
      for (String d : dataLines(ev)) {
        JsonNode n = json(d);
        if (n == null) {
          continue;
        }
        for (JsonNode c : n.path("choices")) {
          if (c.path("delta").path("content").isTextual()) {
            out.append(c.path("delta").path("content").textValue());
          }
          if (c.path("text").isTextual()) {
            out.append(c.path("text").textValue());
          }
          if (c.path("message").path("content").isTextual()) {
            out.append(c.path("message").path("content").textValue());
          }
        }
      }
    }
    return out.toString();
  }
}
