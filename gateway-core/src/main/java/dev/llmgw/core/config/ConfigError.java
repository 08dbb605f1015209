package dev.llmgw.core.config;

import java.nio.file.Path;

/**
 * One problem found while loading {@code gateway.yaml}.
 *
 * @param file    the file the problem is in, or {@code null} when the text did not come from a file
 * @param line    1-based line of the offending key or value, or {@code -1} when unknown
 * @param path    dotted path of the offending value, e.g. {@code backends.openai.timeouts.connect}
 *                ({@code [i]} for list elements); empty for problems with the whole file
 * @param message what is wrong: the bad value and what was expected
 */
public record ConfigError(Path file, int line, String path, String message) {

  public ConfigError {
    path = path == null ? "" : path;
    message = message == null ? "" : message;
  }

  /** {@code file:line: path: message}; the line and path are left out when unknown or empty. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(String.valueOf(file == null ? "<config>" : file));
    if (line > 0) {
      sb.append(':').append(line);
    }
    sb.append(": ");
    if (!path.isEmpty()) {
      sb.append(path).append(": ");
    }
    return sb.append(message).toString();
  }
}
