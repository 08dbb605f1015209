package dev.llmgw.server;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.llmgw.core.config.ConfigLoader;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.testkit.LlamaServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OCI image Jib writes at package ({@code target/jib-image.tar}, README "Container image"), checked as
 * {@code docker load} would see it, with no Docker here: the tarball is unpacked, each layer's digest checked
 * against the image config, the config read (entrypoint, user, port, environment), the layers listed (what each
 * holds), and the gateway started from the layers laid on top of each other, as a container's root file system is.
 *
 * <p>Started how: as root with {@code unshare} and {@code chroot} at hand (CI), the image's own Java runtime
 * runs in the unpacked root as the image's user, with a private /proc and nothing of the host's file system;
 * otherwise the host's {@code java} runs the image's classes, jars and config. Either way it must answer
 * {@code /readyz} on loopback, forward a chat to a model server on loopback (the HTTP path) and serve a
 * completion with the in-process model (llama.cpp's natives). The layer sizes are printed to the test's output.
 */
class ImageIT {
  static final Path TAR = Path.of(System.getProperty("image.tar", "target/jib-image.tar"));
  /** Whether the image is built on the base made here (else e.g. -Dimage.base=eclipse-temurin:17-jre). */
  static final boolean OWN_BASE = System.getProperty("image.base", "tar://").startsWith("tar://");
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @TempDir
  static Path work;
  static JsonNode config;
  static final List<Layer> LAYERS = new ArrayList<>();
  static Path rootfs;
  static Process gateway;
  static WireMockServer provider;

  /** One layer: its history comment, its compressed and unpacked sizes, and the paths it holds. */
  record Layer(String comment, long compressed, long unpacked, List<String> paths, String diffId) {
    boolean holds(String path) {
      return paths.contains(path);
    }
  }

  @BeforeAll
  static void unpack() throws Exception {
    assumeFalse(Boolean.getBoolean("image.skip"), "the image was not built (-Dimage.skip)");
    assertThat(TAR).as("jib:buildTar ran at package").isRegularFile();
    Path image = Files.createDirectories(work.resolve("image"));
    run(work, "tar", "-xf", TAR.toAbsolutePath().toString(), "-C", image.toString());
    JsonNode manifest = RequestParser.JSON.readTree(image.resolve("manifest.json").toFile());
    assertThat(manifest.size()).as("one image").isEqualTo(1);
    config = RequestParser.JSON.readTree(image.resolve(manifest.get(0).path("Config").asText()).toFile());
    List<String> comments = new ArrayList<>();
    config.path("history").forEach(h -> {
      if (!h.path("empty_layer").asBoolean(false)) {
        comments.add(h.has("comment") ? h.path("comment").asText() : h.path("created_by").asText());
      }
    });
    JsonNode files = manifest.get(0).path("Layers");
    assertThat(comments).hasSize(files.size());
    rootfs = Files.createDirectories(work.resolve("rootfs"));
    System.out.printf("image %s: %,d bytes%n", TAR, Files.size(TAR));
    for (int i = 0; i < files.size(); i++) {
      Path layer = image.resolve(files.get(i).asText());
      // GNU tar's verbose listing: mode owner/group size date time path
      List<String[]> listing = run(work, "tar", "-tvzf", layer.toString()).lines()
          .map(l -> l.split("\\s+", 6)).filter(f -> f.length == 6).toList();
      List<String> paths = listing.stream().map(f -> f[5].startsWith("./") ? f[5].substring(2) : f[5])
          .filter(p -> !p.isEmpty()).toList();
      long unpacked = listing.stream().mapToLong(f -> Long.parseLong(f[2])).sum();
      LAYERS.add(new Layer(comments.get(i), Files.size(layer), unpacked, paths, diffId(layer)));
      System.out.printf("  layer %d %-22s %,13d bytes compressed %,13d bytes of files%n", i, comments.get(i),
          Files.size(layer), unpacked);
      run(work, "tar", "-xpzf", layer.toString(), "-C", rootfs.toString()); // in order, as a container's root
    }
  }

  /** The digest of a layer's uncompressed tar: what the config's rootfs.diff_ids must list. */
  static String diffId(Path gzipped) throws IOException {
    java.security.MessageDigest sha256;
    try {
      sha256 = java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (var in = new java.security.DigestInputStream(new java.util.zip.GZIPInputStream(Files.newInputStream(gzipped),
        1 << 16), sha256)) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    }
    return "sha256:" + java.util.HexFormat.of().formatHex(sha256.digest());
  }

  @AfterAll
  static void stop() throws Exception {
    if (provider != null) {
      provider.stop();
    }
    if (gateway != null) {
      // the whole tree: under unshare + chroot the gateway's java is unshare's child, and chroot's change of
      // user clears the parent-death signal that --kill-child sets, so stopping unshare alone left it running
      List<ProcessHandle> tree = new java.util.ArrayList<>(gateway.descendants().toList());
      tree.add(gateway.toHandle());
      tree.forEach(ProcessHandle::destroy);
      for (ProcessHandle h : tree) {
        try {
          h.onExit().get(20, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          h.destroyForcibly();
          h.onExit().get(10, TimeUnit.SECONDS);
        }
      }
    }
  }

  static String run(Path dir, String... command) throws Exception {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
    return out.lines().filter(l -> !l.contains("LIBARCHIVE.")).collect(java.util.stream.Collectors.joining("\n"));
  }

  static Map<String, String> env() {
    Map<String, String> env = new LinkedHashMap<>();
    config.path("config").path("Env").forEach(e -> {
      String s = e.asText();
      env.put(s.substring(0, s.indexOf('=')), s.substring(s.indexOf('=') + 1));
    });
    return env;
  }

  static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** What {@code docker load} checks: each layer, uncompressed, has the digest the image config lists for it. */
  @Test
  void layerDigestsAreTheOnesTheConfigLists() {
    assertThat(LAYERS.stream().map(Layer::diffId).toList())
        .isEqualTo(strings(config.path("rootfs").path("diff_ids")));
    assertThat(config.path("rootfs").path("type").asText()).isEqualTo("layers");
  }

  @Test
  void entrypointUserPortAndEnvironment() throws Exception {
    JsonNode c = config.path("config");
    assertThat(strings(c.path("Entrypoint"))).containsExactly("java", "-Djava.awt.headless=true", "-cp",
        "@/app/jib-classpath-file", Main.class.getName());
    assertThat(strings(c.path("Cmd"))).containsExactly("run", "/app/config");
    assertThat(c.path("WorkingDir").asText()).isEqualTo("/app");

    String user = c.path("User").asText();
    assertThat(user).matches("\\d+:\\d+");
    assertThat(Integer.parseInt(user.substring(0, user.indexOf(':')))).as("not root").isNotZero();
    if (OWN_BASE) {
      assertThat(Files.readAllLines(rootfs.resolve("etc/passwd"))).as("the user has a name and a home")
          .anyMatch(l -> l.split(":")[2].equals(user.substring(0, user.indexOf(':'))));
    }

    // the port the image declares is the one its config listens on when GATEWAY_PORT is not set
    int configured = ConfigLoader.load(rootfs.resolve("app/config/gateway.yaml"), Map.of()).listener().port();
    assertThat(c.path("ExposedPorts").has(configured + "/tcp")).as("exposes " + configured).isTrue();
    assertThat(c.path("ExposedPorts").size()).isEqualTo(1);
    assertThat(env()).containsEntry("GATEWAY_HOST", "0.0.0.0").containsEntry("JAVA_HOME", "/opt/java/openjdk")
        .as("the image runs the JVM with bin/gateway's default options (README, \"Container image\")")
        .containsEntry("JDK_JAVA_OPTIONS", binGatewayJavaOptions());
    assertThat(env().get("PATH")).startsWith("/opt/java/openjdk/bin:");
    assertThat(config.path("architecture").asText()).isEqualTo("amd64");
  }

  /** The default of {@code GATEWAY_JAVA_OPTS} in {@code bin/gateway} (the JVM options it runs the gateway with). */
  static String binGatewayJavaOptions() throws Exception {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\$\\{GATEWAY_JAVA_OPTS:-([^}]*)}")
        .matcher(Files.readString(Path.of("..", "bin", "gateway")));
    assertThat(m.find()).as("bin/gateway sets a default for GATEWAY_JAVA_OPTS").isTrue();
    return m.group(1);
  }

  /** The layers with this history comment, in order. */
  static List<Layer> layers(String comment) {
    return LAYERS.stream().filter(l -> l.comment().equals(comment)).toList();
  }

  @Test
  void layersSplitRuntimeDependenciesResourcesClassesAndConfig() throws Exception {
    // Jib's layers, in its order; the project's own modules are "project dependencies" when built in one
    // reactor, "snapshot dependencies" when they come from the local repository (-pl gateway-server)
    List<String> order = List.of("dependencies", "snapshot dependencies", "project dependencies", "resources",
        "classes", "jvm arg files", "extra files");
    List<String> comments = LAYERS.stream().map(Layer::comment).toList();
    int app = comments.indexOf("dependencies");
    assertThat(app).as("the base image's layers, then Jib's").isPositive();
    assertThat(comments.subList(app, comments.size())).allMatch(order::contains)
        .isSortedAccordingTo(java.util.Comparator.comparingInt(order::indexOf));
    if (OWN_BASE) {
      assertThat(comments.subList(0, app)).containsExactly(
          "gateway-server/src/image/base-image.sh: jlink runtime and shared libraries");
      Layer base = LAYERS.get(0);
      assertThat(base.paths()).contains("opt/java/openjdk/bin/java", "lib64/ld-linux-x86-64.so.2",
          "lib/x86_64-linux-gnu/libstdc++.so.6", "lib/x86_64-linux-gnu/libgomp.so.1", "etc/passwd", "tmp/");
      assertThat(base.paths()).noneMatch(p -> p.startsWith("app/") || p.startsWith("work/") || p.startsWith("home/"));
    }

    List<String> deps = layers("dependencies").get(0).paths().stream().filter(p -> !p.endsWith("/")).toList();
    assertThat(deps).isNotEmpty().allMatch(p -> p.startsWith("app/libs/") && p.endsWith(".jar"))
        .noneMatch(p -> p.contains("SNAPSHOT")).anyMatch(p -> p.startsWith("app/libs/netty-codec-http-"))
        .anyMatch(p -> p.startsWith("app/libs/llama-"));
    List<String> own = new ArrayList<>();
    layers("snapshot dependencies").forEach(l -> own.addAll(l.paths()));
    layers("project dependencies").forEach(l -> own.addAll(l.paths()));
    assertThat(own.stream().filter(p -> !p.endsWith("/"))).allMatch(p -> p.startsWith("app/libs/") && p.endsWith(".jar"))
        .anyMatch(p -> p.startsWith("app/libs/gateway-core-")).anyMatch(p -> p.startsWith("app/libs/routing-rules-"));
    Layer resources = layers("resources").get(0);
    assertThat(resources.holds("app/resources/logback.xml")).isTrue();
    assertThat(resources.paths()).noneMatch(p -> p.endsWith(".class") || p.endsWith(".jar"));
    Layer classes = layers("classes").get(0);
    assertThat(classes.holds("app/classes/dev/llmgw/server/Main.class")).isTrue();
    assertThat(classes.paths()).allMatch(p -> p.startsWith("app/classes/") || p.equals("app/"));
    List<Layer> extra = layers("extra files");
    assertThat(extra).hasSize(2);
    assertThat(extra.get(0).paths()).contains("app/config/gateway.yaml", "app/config/routing.yaml")
        .anyMatch(p -> p.startsWith("app/config/semantic/") && p.endsWith(".jsonl"));
    assertThat(extra.get(1).paths()).containsExactlyInAnyOrder("app/", "app/state/");

    // the shipped config, as it is in the repository
    assertThat(rootfs.resolve("app/config/gateway.yaml")).hasSameTextualContentAs(Path.of("..", "config", "gateway.yaml"));
    // every jar the entrypoint's class path names is in the image
    String classpath = Files.readString(rootfs.resolve("app/jib-classpath-file")).strip();
    for (String entry : classpath.split(":")) {
      assertThat(rootfs.resolve(entry.substring(1))).as(entry).exists();
    }
    // the state file's directory: writable by the image's user, whichever uid it is run as
    assertThat(Files.getPosixFilePermissions(rootfs.resolve("app/state"))).contains(PosixFilePermission.OTHERS_WRITE,
        PosixFilePermission.OTHERS_EXECUTE);
  }

  /**
   * Whether the image's own runtime can be run here: root, with unshare and chroot (probed with java -version);
   * {@code -Dimage.it.runtime=host} runs the host's java instead.
   */
  static boolean canRunInImageRoot() {
    if ("host".equals(System.getProperty("image.it.runtime"))) {
      return false;
    }
    try {
      Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      if (!Integer.valueOf(0).equals(uid) || !Files.isExecutable(Path.of("/usr/bin/unshare"))
          || !Files.isExecutable(Path.of("/usr/sbin/chroot"))) {
        return false;
      }
      List<String> probe = new ArrayList<>(inImageRoot());
      probe.addAll(List.of("/opt/java/openjdk/bin/java", "-version"));
      Process p = new ProcessBuilder(probe).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      boolean ok = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
      System.out.println("image runtime probe: " + (ok ? "ok" : "failed") + "\n" + out);
      return ok;
    } catch (IOException | UnsupportedOperationException | InterruptedException e) {
      System.out.println("image runtime probe: " + e);
      return false;
    }
  }

  /** The command prefix that runs a command in the unpacked image as its user, with a private /proc. */
  static List<String> inImageRoot() {
    return List.of("/usr/bin/unshare", "--mount", "--pid", "--fork", "--kill-child",
        "--mount-proc=" + rootfs.resolve("proc"), "/usr/sbin/chroot",
        "--userspec=" + config.path("config").path("User").asText(), rootfs.toString());
  }

  @Test
  void theGatewayStartsFromTheUnpackedLayersAndAnswers() throws Exception {
    int port;
    try (ServerSocket a = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = a.getLocalPort();
    }
    // a model server on loopback for the HTTP path (llama-server's answers, as WireMock stubs)
    provider = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    provider.start();
    provider.stubFor(get(urlEqualTo("/v1/models")).willReturn(okJson("{\"object\":\"list\",\"data\":[]}")));
    provider.stubFor(post(urlEqualTo("/v1/chat/completions")).willReturn(okJson("{\"id\":\"c1\",\"object\":"
        + "\"chat.completion\",\"created\":1,\"model\":\"local-model\",\"choices\":[{\"index\":0,\"message\":"
        + "{\"role\":\"assistant\",\"content\":\"from the model server\"},\"finish_reason\":\"stop\"}],"
        + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,\"total_tokens\":7}}")));
    Path models = Files.createDirectories(rootfs.resolve("app/models"));
    Files.copy(LlamaServer.stories(), models.resolve("stories.gguf"));
    boolean imageRuntime = canRunInImageRoot();
    List<String> command = new ArrayList<>();
    Map<String, String> env = env();
    if (imageRuntime) {
      command.addAll(inImageRoot());
      command.addAll(strings(config.path("config").path("Entrypoint")));
      command.addAll(strings(config.path("config").path("Cmd")));
      env.put("LOCAL_MODEL_PATH", "/app/models/stories.gguf");
    } else { // the host's java on the image's files: paths under the unpacked root
      String root = rootfs.toString();
      String classpath = Files.readString(rootfs.resolve("app/jib-classpath-file")).strip().replace("/app/", root + "/app/");
      command.addAll(List.of(ProcessHandle.current().info().command().orElse("java"), "-Djava.awt.headless=true",
          "-cp", classpath, Main.class.getName(), "run", root + "/app/config"));
      env.put("LOCAL_MODEL_PATH", models.resolve("stories.gguf").toString());
      env.put("PATH", System.getenv("PATH"));
    }
    System.out.println("gateway from the image, " + (imageRuntime ? "its own runtime (chroot)" : "the host's java")
        + ": " + String.join(" ", command));
    env.put("GATEWAY_HOST", "127.0.0.1"); // loopback only in tests (the image listens on 0.0.0.0)
    env.put("GATEWAY_PORT", Integer.toString(port));
    env.put("LOCAL_MODEL_URL", "http://127.0.0.1:" + provider.port() + "/v1");
    // as every test JVM: paranoid leak detection, a LEAK report fails the test (below)
    env.put("JDK_JAVA_OPTIONS", env.get("JDK_JAVA_OPTIONS") + " -Dio.netty.leakDetection.level=paranoid");
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(work.resolve("gateway.log").toFile());
    pb.environment().clear();
    pb.environment().putAll(env);
    gateway = pb.start();

    HttpRequest readyz = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
        .timeout(Duration.ofSeconds(5)).build();
    try {
      await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
          .failFast("the gateway exited", () -> !gateway.isAlive())
          .until(() -> HTTP.send(readyz, HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
    } catch (AssertionError | RuntimeException e) {
      System.out.println("gateway log:\n" + log());
      throw e;
    }
    JsonNode ready = RequestParser.JSON.readTree(HTTP.send(readyz, HttpResponse.BodyHandlers.ofString()).body());
    assertThat(ready.path("status").asText()).isEqualTo("ready");
    assertThat(ready.toString()).contains("\"name\":\"local-gguf\",\"enabled\":true");

    // the in-process model: llama.cpp's natives load with the image's libraries
    HttpResponse<String> story = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/v1/completions")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
            "{\"model\":\"local-gguf\",\"prompt\":\"Once upon a time\",\"max_tokens\":12}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(story.statusCode()).as(story.body()).isEqualTo(200);
    JsonNode body = RequestParser.JSON.readTree(story.body());
    assertThat(body.path("choices").get(0).path("text").asText()).isNotBlank();
    assertThat(body.path("usage").path("completion_tokens").asInt()).isPositive();
    // the HTTP path: the gateway in the image forwards to the model server on loopback
    HttpResponse<String> chat = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/v1/chat/completions")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers
            .ofString("{\"model\":\"local\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
    assertThat(chat.headers().firstValue("x-gateway-backend")).contains("local");
    assertThat(RequestParser.JSON.readTree(chat.body()).path("choices").get(0).path("message").path("content").asText())
        .isEqualTo("from the model server");
    String log = log();
    assertThat(log).contains("gateway listening on http://127.0.0.1:" + port, "state: embedded store /app/state/gateway.mv"
        .replace("/app/", imageRuntime ? "/app/" : rootfs + "/app/"));
    assertThat(log).contains("OPEN gateway \u2014 no key").as("UTF-8 logs (the C.UTF-8 locale)")
        .doesNotContain("Exception in thread").doesNotContain("LEAK:");
  }

  static String log() {
    try {
      return Files.readString(work.resolve("gateway.log"));
    } catch (IOException e) {
      return e.toString();
    }
  }
}
