package dev.llmgw.routing;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The text segments of a request that the semantic classifier and the judge read (see {@link
 * RequestFeatures#segments()}). Each segment is cut at {@value #MAX_CHARS} characters: the embedding
 * model reads about 256 tokens of a text anyway, and the cut bounds the cost of a request. A last
 * user message longer than that also gives its last {@value #MAX_CHARS} characters as a segment.
 */
final class Segments {

  static final int EARLIER_USER_TURNS = 3;
  static final int MAX_CHARS = 1_000;
  private static final int MAX_TOOLS = 16;

  private Segments() {}

  static List<String> of(JsonNode body, MessageScan scan) {
    List<String> out = new ArrayList<>(6);
    if (scan.lastUser >= 0) {
      String last = scan.texts[scan.lastUser];
      add(out, last);
      if (last.strip().length() > MAX_CHARS) {
        // a long message often asks its question after the material (code, a document): its end too
        String t = last.strip();
        add(out, t.substring(Math.max(MAX_CHARS, t.length() - MAX_CHARS)));
      }
    }
    int earlier = 0;
    for (int i = scan.lastUser - 1; i >= 0 && earlier < EARLIER_USER_TURNS; i--) {
      if (scan.roles[i] == MessageScan.USER && !scan.texts[i].isBlank()) {
        add(out, scan.texts[i]);
        earlier++;
      }
    }
    StringBuilder system = new StringBuilder();
    for (int i = 0; i < scan.texts.length; i++) {
      if (scan.roles[i] == MessageScan.SYSTEM && !scan.texts[i].isBlank()) {
        system.append(system.length() == 0 ? "" : "\n").append(scan.texts[i]);
      }
    }
    add(out, system);
    add(out, toolCalls(body.get("messages")));
    add(out, tools(body));
    if (out.isEmpty()) {
      out.add("");
    }
    return out;
  }

  private static void add(List<String> out, CharSequence text) {
    if (text == null) {
      return;
    }
    String s = text.toString().strip();
    if (!s.isEmpty()) {
      out.add(s.length() > MAX_CHARS ? s.substring(0, MAX_CHARS) : s);
    }
  }

  /** The tool calls of assistant messages: {@code name(arguments)}, one per line. */
  private static String toolCalls(JsonNode messages) {
    if (messages == null || !messages.isArray()) {
      return null;
    }
    StringBuilder sb = new StringBuilder();
    for (JsonNode m : messages) {
      JsonNode calls = m.get("tool_calls");
      if (calls != null && calls.isArray()) {
        for (JsonNode c : calls) {
          JsonNode fn = c.path("function");
          sb.append(fn.path("name").asText("")).append('(')
              .append(fn.path("arguments").asText("")).append(")\n");
        }
      }
      JsonNode legacy = m.get("function_call");
      if (legacy != null && legacy.isObject()) {
        sb.append(legacy.path("name").asText("")).append('(')
            .append(legacy.path("arguments").asText("")).append(")\n");
      }
      if (sb.length() > MAX_CHARS) {
        break;
      }
    }
    return sb.toString();
  }

  /** The tools offered: {@code name: description}, one per line. */
  private static String tools(JsonNode body) {
    StringBuilder sb = new StringBuilder();
    int n = 0;
    for (String field : new String[] {"tools", "functions"}) {
      JsonNode list = body.get(field);
      if (list == null || !list.isArray()) {
        continue;
      }
      for (JsonNode t : list) {
        JsonNode fn = t.has("function") ? t.get("function") : t;
        sb.append(fn.path("name").asText("")).append(": ")
            .append(fn.path("description").asText("")).append('\n');
        if (++n >= MAX_TOOLS || sb.length() > MAX_CHARS) {
          return sb.toString();
        }
      }
    }
    return sb.toString();
  }
}
