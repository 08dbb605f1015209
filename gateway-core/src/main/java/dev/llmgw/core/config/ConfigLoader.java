package dev.llmgw.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.config.raw.GatewayYaml;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Loads {@code gateway.yaml} into a {@link GatewayConfig}, in two phases.
 *
 * <ol>
 *   <li>{@code ${VAR}} and {@code ${VAR:-default}} are replaced in the raw text from the
 *       environment (comments are left alone, line numbers are kept); the YAML is bound to the
 *       records of {@code dev.llmgw.core.config.raw}, unknown keys and values of the wrong shape
 *       being recorded rather than stopping the binding.
 *   <li>The bound values are validated and compiled into {@link GatewayConfig}: sizes, durations,
 *       ports and URLs are parsed, aliases are checked against the backends, and each backend's
 *       provider key is read from the environment variable its {@code apiKeyEnv} names.
 * </ol>
 *
 * <p>Every problem found is reported at once in one {@link ConfigException}, each with its file,
 * line and path. Provider keys never pass through the file: a {@code ${VAR}} that names a backend's
 * {@code apiKeyEnv} is refused, since it would copy the key into a URL or header that gets logged;
 * so is one that names {@code auth.adminTokenEnv}.
 *
 * <p>The {@code auth} section may name a keys file ({@code auth.keysFile}, relative to the directory
 * of gateway.yaml); its problems are reported in the same exception, with its own name and lines.
 */
public final class ConfigLoader {

  private ConfigLoader() {}

  /** Loads a file with the process environment. */
  public static GatewayConfig load(Path file) throws ConfigException {
    return load(file, System.getenv());
  }

  /**
   * Loads a file.
   *
   * @param file the YAML file
   * @param env  the environment: substitution values and provider keys
   * @throws ConfigException listing every problem found
   */
  public static GatewayConfig load(Path file, Map<String, String> env) throws ConfigException {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw single(file, "file not found (expected a gateway.yaml such as config/gateway.yaml)");
    } catch (CharacterCodingException e) {
      throw single(file, "not UTF-8 text (expected a UTF-8 YAML file)");
    } catch (IOException e) {
      throw single(file, "cannot be read: " + e);
    }
    return parse(file, text, env);
  }

  /**
   * Loads configuration text.
   *
   * @param source the file the text came from, for messages and {@link GatewayConfig#source()}
   * @param text   the YAML text
   * @param env    the environment: substitution values and provider keys
   * @throws ConfigException listing every problem found
   */
  public static GatewayConfig parse(Path source, String text, Map<String, String> env)
      throws ConfigException {
    Problems problems = new Problems(source);
    EnvSubstitution.Result substituted = EnvSubstitution.apply(text, env);
    LocationIndex index = LocationIndex.build(substituted.text(), problems);
    if (index != null) {
      problems.useIndex(index);
    }
    substituted.problems().forEach(p ->
        problems.addAt(p.line(), problems.index().pathAt(p.line()), p.message()));
    if (index == null) {
      throw problems.exception();
    }
    if (index.isEmpty()) {
      problems.addAt(-1, "", "no configuration (expected listener, limits, backends and models)");
      throw problems.exception();
    }
    // before binding, so that no message about the same value can repeat the secret
    refuseSubstitutedSecrets(RawBinder.tree(substituted.text()), substituted.lines(), problems);
    GatewayYaml raw = RawBinder.bind(substituted.text(), problems);
    if (raw == null) {
      throw problems.exception();
    }
    GatewayConfig config = new ConfigCompiler(problems, env, substituted.lines()).compile(source, raw);
    if (problems.hasErrors() || config == null) {
      throw problems.exception();
    }
    return config;
  }

  /**
   * Refuses a {@code ${VAR}} that names a secret's variable: a backend's {@code apiKeyEnv} or
   * {@code auth.adminTokenEnv}. The problem takes the path of the value, so no later message about
   * that value (which would quote the secret) is kept.
   */
  private static void refuseSubstitutedSecrets(JsonNode tree, Map<String, List<Integer>> used,
      Problems problems) {
    if (tree == null || used.isEmpty()) {
      return;
    }
    tree.path("backends").properties().forEach(b -> refuse(b.getValue().path("apiKeyEnv"),
        "the provider key of backend '" + b.getKey() + "' (expected it only as apiKeyEnv: the"
            + " gateway reads the key itself and never writes it into the config)", used, problems));
    refuse(tree.path("auth").path("adminTokenEnv"), "the admin token (expected it only as"
        + " auth.adminTokenEnv: the gateway reads the token itself, keeps only its hash and never"
        + " writes it into the config)", used, problems);
  }

  private static void refuse(JsonNode envName, String what, Map<String, List<Integer>> used,
      Problems problems) {
    String name = envName.isValueNode() ? envName.asText().strip() : null;
    for (int line : name == null ? List.<Integer>of() : used.getOrDefault(name, List.of())) {
      problems.addAt(line, problems.index().pathAt(line), "${" + name + "} is " + what);
    }
  }

  private static ConfigException single(Path file, String message) {
    return new ConfigException(List.of(new ConfigError(file, -1, "", message)));
  }
}
