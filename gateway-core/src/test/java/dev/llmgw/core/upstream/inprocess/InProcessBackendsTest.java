package dev.llmgw.core.upstream.inprocess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.llmgw.core.config.BackendSpec;
import dev.llmgw.core.config.InProcessSpec;
import dev.llmgw.core.config.Resilience;
import dev.llmgw.core.config.Timeouts;
import dev.llmgw.core.upstream.Transport;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Loading, keeping, replacing and unloading models as configs come and go; a model that will not load. */
class InProcessBackendsTest {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, Transport.nio().ioHandlerFactory());
  private final List<ScriptedEngine> loaded = new ArrayList<>();
  private final Map<String, Boolean> health = new LinkedHashMap<>();
  private final InProcessBackends backends = new InProcessBackends(group, spec -> {
    if (spec.model().toString().contains("broken")) {
      throw new LlamaEngine.LoadException("model file " + spec.model() + ": llama.cpp could not load it", null);
    }
    ScriptedEngine e = new ScriptedEngine(spec.contextSize(), 3);
    loaded.add(e);
    return e;
  });

  @AfterEach
  void stop() throws InterruptedException {
    backends.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  private static BackendSpec spec(String name, String file, int context, Duration firstByte) {
    return BackendSpec.inProcess(name, InProcessSpec.of(Path.of(file), context, 1, 1, 1), List.of("m"),
        new Timeouts(Duration.ofSeconds(1), firstByte, Duration.ofSeconds(5), Duration.ofSeconds(60)),
        Resilience.defaults());
  }

  private void apply(BackendSpec... specs) {
    backends.apply(List.of(specs), (b, up) -> health.put(b.name(), up));
  }

  @Test
  void aModelIsKeptAcrossReloadsThatDoNotTouchItAndReplacedWhenTheyDo() {
    BackendSpec a = spec("a", "a.gguf", 100, Duration.ofSeconds(5));
    apply(a);
    InferenceServer first = backends.server("a").orElseThrow();
    assertThat(backends.address(a)).isEqualTo(first.address());
    assertThat(health).containsEntry("a", true);

    apply(spec("a", "a.gguf", 100, Duration.ofSeconds(9))); // only a timeout changed
    assertThat(backends.server("a")).containsSame(first);
    assertThat(loaded).hasSize(1);

    BackendSpec bigger = spec("a", "a.gguf", 200, Duration.ofSeconds(9));
    apply(bigger);
    InferenceServer second = backends.server("a").orElseThrow();
    assertThat(second).isNotSameAs(first);
    assertThat(second.address()).isNotEqualTo(first.address());
    assertThat(backends.address(a)).as("the old settings' pools connect nowhere now")
        .isNotEqualTo(first.address()).isNotEqualTo(second.address());
    await().atMost(Duration.ofSeconds(5)).until(() -> loaded.get(0).closed);

    apply(); // removed
    assertThat(backends.server("a")).isEmpty();
    await().atMost(Duration.ofSeconds(5)).until(() -> loaded.get(1).closed);
  }

  @Test
  void aModelThatWillNotLoadLeavesItsBackendDownAndTheOthersUp() {
    apply(spec("ok", "ok.gguf", 100, Duration.ofSeconds(5)), spec("bad", "broken.gguf", 100, Duration.ofSeconds(5)));

    assertThat(health).containsEntry("ok", true).containsEntry("bad", false);
    assertThat(backends.server("bad")).isEmpty();
    assertThat(backends.failure("bad")).hasValueSatisfying(f -> assertThat(f).contains("could not load it"));
    assertThat(backends.server("ok")).isPresent();

    apply(spec("ok", "ok.gguf", 100, Duration.ofSeconds(5)));
    assertThat(backends.failure("bad")).as("gone from the config, gone from the report").isEmpty();
  }
}
