package dev.llmgw.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.upstream.Transport;
import dev.llmgw.routing.Vocabulary;
import dev.llmgw.testkit.TestConfigs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The tokenizers' vocabularies are read at start-up, not on an event loop by the first request that
 * needs one (about half a second each, every connection on that loop stalled). Checked in a fresh JVM:
 * in this one another test may have read them already.
 */
class VocabulariesTest {

  /** Run in a child JVM: prints whether each vocabulary is loaded before construction and after start. */
  public static void main(String[] args) throws Exception {
    String before = Vocabulary.O200K.loaded() + " " + Vocabulary.CL100K.loaded();
    GatewayServer gw = new GatewayServer(TestConfigs.oneBackend("http://127.0.0.1:9/v1"), Transport.nio(), 1).start();
    String after = Vocabulary.O200K.loaded() + " " + Vocabulary.CL100K.loaded();
    gw.stop(Duration.ZERO);
    System.out.println("before=" + before + " after=" + after);
  }

  @Test
  void startReadsBothVocabulariesBeforeItAcceptsConnections() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
        VocabulariesTest.class.getName()))
        .redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).as("a fresh JVM has neither before the server, both once it listens")
        .contains("before=false false after=true true");
  }
}
