package dev.llmgw.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No class in gateway-core is over {@value #MAX_LINES} lines (issue #14): a class that grows past it
 * holds more than one responsibility and is split where its seams are, not trimmed to fit.
 */
class SourceSizeTest {
  static final int MAX_LINES = 400;

  @Test
  void noSourceFileIsOverTheLimit() throws IOException {
    Path main = Path.of("src/main/java");
    assertThat(main).isDirectory();
    List<String> over;
    try (Stream<Path> files = Files.walk(main)) {
      over = files.filter(p -> p.toString().endsWith(".java")).map(p -> {
        try {
          long lines;
          try (Stream<String> s = Files.lines(p)) {
            lines = s.count();
          }
          return lines > MAX_LINES ? main.relativize(p) + ": " + lines + " lines" : null;
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).filter(java.util.Objects::nonNull).sorted().toList();
    }
    assertThat(over).as("gateway-core classes over %d lines", MAX_LINES).isEmpty();
  }
}
