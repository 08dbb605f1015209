package dev.llmgw.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the keys the raw records of {@code dev.llmgw.core.config.raw} do not have, by walking the
 * YAML tree along the records' component types. Done on the tree rather than in Jackson's
 * unknown-property callback because Jackson buffers the unknown properties of a record and replays
 * them once the record is complete, by which time the parser no longer knows where they were.
 */
final class UnknownKeys {

  private UnknownKeys() {}

  /** Records an "unknown key" problem, with the keys allowed there, for each key not in the type. */
  static void check(JsonNode node, Type type, String path, Problems problems) {
    Class<?> raw = rawClass(type);
    if (node == null || raw == null) {
      return;
    }
    if (node.isObject() && raw.isRecord()) {
      Map<String, Type> known = components(raw);
      node.properties().forEach(f -> {
        String at = YamlPath.child(path, f.getKey());
        if (known.containsKey(f.getKey())) {
          check(f.getValue(), known.get(f.getKey()), at, problems);
        } else {
          problems.add(at, unknown(f.getKey(), List.copyOf(known.keySet())));
        }
      });
    } else if (node.isObject() && Map.class.isAssignableFrom(raw)) {
      node.properties().forEach(
          f -> check(f.getValue(), typeArgument(type, 1), YamlPath.child(path, f.getKey()), problems));
    } else if (node.isArray() && List.class.isAssignableFrom(raw)) {
      for (int i = 0; i < node.size(); i++) {
        check(node.get(i), typeArgument(type, 0), YamlPath.element(path, i), problems);
      }
    }
  }

  static String unknown(String key, List<String> known) {
    String suggestion = known.stream()
        .filter(k -> distance(k.toLowerCase(), key.toLowerCase()) <= 2)
        .min(Comparator.comparingInt(k -> distance(k, key)))
        .map(k -> "; did you mean '" + k + "'?")
        .orElse("");
    return "unknown key '" + key + "' (expected one of: " + String.join(", ", known) + suggestion
        + ")";
  }

  static List<String> keysOf(Class<?> record) {
    return List.copyOf(components(record).keySet());
  }

  private static Map<String, Type> components(Class<?> record) {
    Map<String, Type> out = new LinkedHashMap<>();
    Arrays.stream(record.getRecordComponents())
        .forEach((RecordComponent c) -> out.put(c.getName(), c.getGenericType()));
    return out;
  }

  private static Class<?> rawClass(Type type) {
    if (type instanceof Class<?> c) {
      return c;
    }
    return type instanceof ParameterizedType p ? rawClass(p.getRawType()) : null;
  }

  private static Type typeArgument(Type type, int index) {
    return type instanceof ParameterizedType p && p.getActualTypeArguments().length > index
        ? p.getActualTypeArguments()[index] : Object.class;
  }

  /** Levenshtein distance, for "did you mean". */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
