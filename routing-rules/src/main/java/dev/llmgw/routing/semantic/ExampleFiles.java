package dev.llmgw.routing.semantic;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.routing.RuleProblem;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;

/**
 * Reads the semantic classifier's example files: JSON Lines, one example per line,
 * {@code {"tier": "high-stakes", "text": "..."}}. Blank lines and lines starting with {@code //} are
 * skipped. Every broken line is reported with its file and line (up to {@value #MAX_PROBLEMS_PER_FILE}
 * per file); no example of a file with a problem is used, because the policy is then refused whole.
 */
public final class ExampleFiles {

  static final int MAX_PROBLEMS_PER_FILE = 20;
  /** Longer texts are refused: only the first {@link Embedders#MAX_CHARS} would count. */
  static final int MAX_TEXT_CHARS = 4_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  private ExampleFiles() {}

  /** Examples read, and the problems found; the examples are usable only when there is none. */
  public record Read(List<Example> examples, List<RuleProblem> problems) {}

  /**
   * @param file  the file (resolved against routing.yaml's directory by the caller)
   * @param path  the routing.yaml path that names it, for problems about the file as a whole
   * @param tiers the configured tiers
   */
  public static Read read(Path file, String path, Collection<String> tiers) {
    List<Example> out = new ArrayList<>();
    List<RuleProblem> problems = new ArrayList<>();
    List<String> lines;
    try {
      String text = StandardCharsets.UTF_8.newDecoder()
          .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
      lines = List.of(text.split("\n", -1));
    } catch (NoSuchFileException e) {
      problems.add(new RuleProblem(path, file + ": file not found"));
      return new Read(List.of(), problems);
    } catch (CharacterCodingException e) {
      problems.add(new RuleProblem("", "not UTF-8 text", file, -1));
      return new Read(List.of(), problems);
    } catch (IOException e) {
      problems.add(new RuleProblem(path, file + ": cannot be read: " + e.getMessage()));
      return new Read(List.of(), problems);
    }
    int counted = 0;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("//")) {
        continue;
      }
      String problem = parse(line, tiers, file, i + 1, out);
      if (problem != null) {
        if (++counted <= MAX_PROBLEMS_PER_FILE) {
          problems.add(new RuleProblem("", problem, file, i + 1));
        }
      }
    }
    if (counted > MAX_PROBLEMS_PER_FILE) {
      problems.add(new RuleProblem("", (counted - MAX_PROBLEMS_PER_FILE)
          + " more broken lines not listed", file, -1));
    }
    if (out.isEmpty() && counted == 0) {
      problems.add(new RuleProblem("", "no examples (expected one JSON object per line, e.g. "
          + "{\"tier\": \"high-stakes\", \"text\": \"...\"})", file, -1));
    }
    return new Read(out, problems);
  }

  /** Adds the example of one line, or returns what is wrong with it. */
  private static String parse(String line, Collection<String> tiers, Path file, int n,
      List<Example> out) {
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      return "not a JSON object (" + e.getOriginalMessage() + ")";
    }
    if (node == null || !node.isObject()) {
      return "not a JSON object (expected {\"tier\": ..., \"text\": ...})";
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!key.equals("tier") && !key.equals("text")) {
        return "unknown key '" + key + "' (expected tier and text)";
      }
    }
    JsonNode tier = node.get("tier");
    JsonNode text = node.get("text");
    if (tier == null || !tier.isTextual()) {
      return "tier: missing (expected one of: " + String.join(", ", tiers) + ")";
    }
    if (!tiers.contains(tier.textValue())) {
      return "tier: '" + tier.textValue() + "' is not a configured tier (expected one of: "
          + String.join(", ", tiers) + ")";
    }
    if (text == null || !text.isTextual() || text.textValue().isBlank()) {
      return "text: missing or empty (expected the request text as a string)";
    }
    if (text.textValue().length() > MAX_TEXT_CHARS) {
      return "text: " + text.textValue().length() + " characters (expected at most "
          + MAX_TEXT_CHARS + "; only the first " + Embedders.MAX_CHARS + " are compared)";
    }
    out.add(new Example(tier.textValue(), text.textValue().strip(), file, n));
    return null;
  }
}
