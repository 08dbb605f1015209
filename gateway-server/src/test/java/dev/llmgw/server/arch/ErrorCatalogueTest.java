package dev.llmgw.server.arch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every client-facing error is built in one place, {@code GatewayError}'s factories, so its status,
 * type, code and wording are defined once (issue 14): no {@code new GatewayError(} anywhere else in
 * the production sources of any module.
 */
class ErrorCatalogueTest {
  @Test
  void noErrorIsBuiltOutsideTheCatalogue() throws IOException {
    Path root = Path.of(System.getProperty("user.dir")).getParent();
    List<String> offenders;
    try (Stream<Path> files = Files.walk(root)) {
      offenders = files.filter(f -> f.toString().endsWith(".java") && f.toString().contains("/src/main/"))
          .filter(f -> !f.endsWith(Path.of("dev/llmgw/core/error/GatewayError.java")))
          .filter(f -> {
            try {
              return Files.readString(f).contains("new GatewayError(");
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          })
          .map(f -> root.relativize(f).toString()).sorted().toList();
    }
    assertThat(offenders).as("files that build a GatewayError themselves").isEmpty();
  }
}
