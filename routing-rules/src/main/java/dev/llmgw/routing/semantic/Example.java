package dev.llmgw.routing.semantic;

import java.nio.file.Path;

/**
 * One labelled example of an example file.
 *
 * @param tier the tier this kind of request belongs to
 * @param text the request text, as a user would send it
 * @param file the file it was read from
 * @param line its 1-based line there
 */
public record Example(String tier, String text, Path file, int line) {

  /** {@code file:line}, with the file's name only. */
  public String where() {
    return file.getFileName() + ":" + line;
  }
}
