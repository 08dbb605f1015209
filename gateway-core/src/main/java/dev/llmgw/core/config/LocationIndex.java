package dev.llmgw.core.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where each key and list element of the YAML text is, by {@link YamlPath}: a first pass over the
 * parser's tokens, so that problems found later (while binding or validating) can name their line.
 * The same pass reports YAML syntax errors and duplicate keys.
 */
final class LocationIndex {

  static final LocationIndex EMPTY = new LocationIndex(Map.of(), Map.of(), true);

  private static final YAMLFactory YAML = new YAMLFactory();

  private final Map<String, Integer> lines;
  private final Map<Integer, String> pathsByLine;
  private final boolean empty;

  private LocationIndex(
      Map<String, Integer> lines, Map<Integer, String> pathsByLine, boolean empty) {
    this.lines = lines;
    this.pathsByLine = pathsByLine;
    this.empty = empty;
  }

  /**
   * Indexes the text. Duplicate keys are recorded as problems; a syntax error is recorded and gives
   * {@code null}, since nothing after it can be read.
   */
  static LocationIndex build(String text, Problems problems) {
    Map<String, Integer> lines = new HashMap<>();
    Map<Integer, String> pathsByLine = new HashMap<>();
    Deque<Set<String>> keysInObject = new ArrayDeque<>();
    int documents = 0;
    try (JsonParser p = YAML.createParser(text)) {
      for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
        if (t == JsonToken.END_OBJECT) {
          keysInObject.pop();
          continue;
        }
        if (t == JsonToken.END_ARRAY) {
          continue;
        }
        int line = p.currentTokenLocation().getLineNr();
        String path = YamlPath.of(p.getParsingContext());
        boolean container = t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY;
        JsonStreamContext holder =
            container ? p.getParsingContext().getParent() : p.getParsingContext();
        if (t == JsonToken.START_OBJECT) {
          keysInObject.push(new HashSet<>());
        }
        if (holder != null && holder.inRoot()) {
          if (++documents > 1) {
            problems.addAlways(line, "", "a second YAML document (expected one document)");
            break;
          }
          lines.put("", line);
        }
        if (t == JsonToken.FIELD_NAME) {
          if (!keysInObject.peek().add(p.currentName())) {
            problems.addAlways(line, path, "duplicate key '" + p.currentName()
                + "' (first written on line " + lines.get(path) + "; expected each key once)");
            // the binder keeps the last one: forget where the first one's contents were
            lines.keySet().removeIf(k -> k.startsWith(path + ".") || k.startsWith(path + "["));
            lines.remove(path);
          }
        } else if (holder == null || !holder.inArray()) {
          continue; // the value of a field (its key is indexed) or the document itself
        }
        lines.putIfAbsent(path, line);
        pathsByLine.put(line, path);
      }
    } catch (JsonProcessingException e) {
      int line = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
      problems.addAt(line, "", "not valid YAML: " + yamlProblem(e.getOriginalMessage()));
      return null;
    } catch (IOException e) {
      problems.addAt(-1, "", "cannot read the YAML: " + e.getMessage());
      return null;
    }
    return new LocationIndex(lines, pathsByLine, documents == 0);
  }

  /**
   * The problem of a YAML syntax error without SnakeYAML's position lines, e.g. {@code while parsing
   * a flow sequence: expected ',' or ']', but got <block mapping end>}.
   */
  static String yamlProblem(String message) {
    if (message == null) {
      return "syntax error";
    }
    String text = message.lines()
        .filter(l -> !l.isBlank() && !Character.isWhitespace(l.charAt(0)))
        .map(String::strip)
        .collect(Collectors.joining(": "));
    return text.isEmpty() ? message.strip() : text;
  }

  /** Whether the text holds no YAML at all (only blank lines and comments). */
  boolean isEmpty() {
    return empty;
  }

  boolean contains(String path) {
    return lines.containsKey(path);
  }

  /**
   * The line of this path, or of its nearest indexed parent; for the document itself, the line it
   * starts on; {@code -1} when unknown.
   */
  int line(String path) {
    for (String p = path; ; p = parent(p)) {
      Integer line = lines.get(p);
      if (line != null) {
        return line;
      }
      if (p.isEmpty()) {
        return -1;
      }
    }
  }

  /** The deepest path written on a line, or {@code ""} when none. */
  String pathAt(int line) {
    return pathsByLine.getOrDefault(line, "");
  }

  private static String parent(String path) {
    int cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
    return cut < 0 ? "" : path.substring(0, cut);
  }
}
