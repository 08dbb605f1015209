package dev.llmgw.core.config;

import dev.llmgw.core.config.raw.AuthYaml;
import dev.llmgw.core.config.raw.BudgetYaml;
import dev.llmgw.core.config.raw.KeyYaml;
import dev.llmgw.core.config.raw.KeysFileYaml;
import dev.llmgw.core.config.raw.TeamYaml;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Validates the {@code auth} section, and the keys file it may name, and compiles them into
 * {@link Access}.
 *
 * <ul>
 *   <li>No {@code auth} section: an open gateway. With one, the gateway is open only with
 *       {@code open: true}; otherwise at least one key is needed.
 *   <li>Keys are given by the hex SHA-256 of the key, never the key itself (normalized to lower
 *       case); two keys with the same hash are refused, wherever they are written.
 *   <li>The admin token is read from the environment variable {@code adminTokenEnv} names and hashed
 *       at once (unset or empty: admin endpoints refuse everyone), or given as
 *       {@code adminTokenSha256}. The clear token is kept nowhere.
 *   <li>The keys file ({@code keysFile}, relative to the directory of gateway.yaml) holds
 *       {@code keys} and {@code teams} of the same shape; its problems are reported with its own
 *       name and lines. It gets no {@code ${VAR}} substitution.
 * </ul>
 *
 * <p>No message repeats a value written where a hash belongs: it may be a key in clear.
 */
final class AccessCompiler {

  static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]*");
  static final String NAME_EXPECTED =
      "lower-case letters, digits, '_', '.' and '-', starting with a letter or digit";
  static final String BOOLEAN = "true or false";
  static final String SHA256_EXPECTED = "the key's SHA-256 as 64 hex digits, as printed by"
      + " printf %s \"$KEY\" | sha256sum";
  static final String ADMIN_SHA256_EXPECTED = "the admin token's SHA-256 as 64 hex digits, as"
      + " printed by printf %s \"$TOKEN\" | sha256sum";
  static final String MONEY_EXPECTED = "US dollars, a number 0 or above, e.g. 5.00";
  static final String BUDGET_EXPECTED = "a mapping such as {period: day, hard: 5.00, soft: 4.00}";
  static final String RPM_EXPECTED = "requests per minute, an integer 0 or above (0 = no limit)";
  static final String TPM_EXPECTED = "tokens per minute, an integer 0 or above (0 = no limit)";
  static final String KEYS_FILE_EXPECTED =
      "a path to a keys file, relative to the directory of gateway.yaml, e.g. keys.yaml";

  /** Where keys and teams are written: gateway.yaml's {@code auth} section or the keys file. */
  private record Source(Problems problems, String keysPath, String teamsPath,
      Map<String, KeyYaml> keys, Map<String, TeamYaml> teams) {}

  /** The first key written with a hash, for the message about the second. */
  private record Seen(String name, String where) {}

  private final Problems problems;
  private final Map<String, String> env;
  private final Path baseDir;
  private final List<Problems> otherFiles = new ArrayList<>();
  private final Map<String, String> keyNames = new HashMap<>();
  private final Map<String, Seen> hashes = new HashMap<>();

  /**
   * @param problems the problems of gateway.yaml
   * @param env      the environment (the admin token)
   * @param source   gateway.yaml, or {@code null}: the keys file is read relative to its directory
   */
  AccessCompiler(Problems problems, Map<String, String> env, Path source) {
    this.problems = problems;
    this.env = env;
    Path dir = source == null ? null : source.getParent();
    this.baseDir = dir == null ? Path.of("") : dir;
  }

  /**
   * The compiled section, or {@code null} when it has a problem (each one is recorded, the keys
   * file's too).
   *
   * @param connections the connection limits (from {@code limits}), or {@code null} when they have
   *                    a problem
   * @param aliases     the model aliases written in {@code models}
   */
  Access compile(AuthYaml a, Access.ConnectionLimits connections, Set<String> aliases) {
    if (a == null) {
      // an open gateway is a decision the config must state, never a default (issue #6)
      problems.add("auth", problems.present("auth")
          ? "no value (expected a mapping such as {open: true} or {keys: ...})"
          : "no auth section (expected auth: {keys: ...} with gateway keys, or auth: {open: true} to run"
              + " without keys)");
      return null;
    }
    int before = problems.count();
    Boolean open = problems.optional("auth.open", a.open(), false, BOOLEAN, ConfigValues::bool);
    Boolean protectMetrics = problems.optional("auth.protectMetrics", a.protectMetrics(), false,
        BOOLEAN, ConfigValues::bool);
    String adminHash = adminToken(a);

    List<Source> sources = new ArrayList<>();
    sources.add(new Source(problems, "auth.keys", "auth.teams", a.keys(), a.teams()));
    boolean fileRead = true;
    if (a.keysFile() != null || problems.present("auth.keysFile")) {
      String written = problems.optional("auth.keysFile", a.keysFile(), null, KEYS_FILE_EXPECTED,
          s -> ConfigValues.nonBlank(s, KEYS_FILE_EXPECTED));
      Source file = written == null ? null : keysFile(written);
      fileRead = file != null;
      if (file != null) {
        sources.add(file);
      }
    }

    Set<String> teamNames = new LinkedHashSet<>();
    sources.forEach(s -> {
      if (s.teams() != null) {
        teamNames.addAll(s.teams().keySet());
      }
    });
    Map<String, Access.Team> teams = teams(sources);
    Map<String, Access.ApiKey> keys = new LinkedHashMap<>();
    for (Source s : sources) {
      if (s.keys() == null) {
        absentOrEmpty(s.problems(), s.keysPath(), "a mapping of keys by name, e.g."
            + " support-bot: {sha256: <64 hex digits>, team: support}");
        continue;
      }
      s.keys().forEach((name, k) -> {
        Access.ApiKey key = key(s, name, k, teamNames, aliases);
        if (key != null) {
          keys.put(key.sha256(), key);
        }
      });
    }

    int written = sources.stream().mapToInt(s -> s.keys() == null ? 0 : s.keys().size()).sum();
    if (Boolean.FALSE.equals(open) && written == 0 && fileRead) {
      problems.add(a.open() != null ? "auth.open" : "auth",
          "no keys (expected at least one key, or open: true)");
    }
    otherFiles.forEach(problems::absorb);
    if (problems.count() > before || connections == null || open == null
        || protectMetrics == null) {
      return null;
    }
    return new Access(open, adminHash, protectMetrics, keys, teams, connections);
  }

  /** The admin token's hash, or {@code null} (none, or a problem). */
  private String adminToken(AuthYaml a) {
    String envName = problems.optional("auth.adminTokenEnv", a.adminTokenEnv(), null,
        "an environment variable name, e.g. GATEWAY_ADMIN_TOKEN", ConfigValues::envName);
    String hash = problems.optional("auth.adminTokenSha256", a.adminTokenSha256(), null,
        ADMIN_SHA256_EXPECTED, ConfigValues::sha256);
    if (a.adminTokenEnv() != null && a.adminTokenSha256() != null) {
      problems.add("auth.adminTokenSha256", "written together with adminTokenEnv (expected at"
          + " most one of adminTokenEnv and adminTokenSha256)");
      return null;
    }
    if (envName != null) {
      // surrounding whitespace cannot be sent in an HTTP header: hash what a client can present
      String token = env.get(envName);
      return token == null || token.isBlank() ? null : Secrets.sha256Hex(token.strip());
    }
    return hash;
  }

  /** The keys file as a source, or {@code null} when it cannot be read or parsed (recorded). */
  private Source keysFile(String written) {
    Path file = baseDir.resolve(written).normalize();
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      problems.add("auth.keysFile", "'" + written + "' not found (looked for " + file
          + "; expected " + KEYS_FILE_EXPECTED + ")");
      return null;
    } catch (CharacterCodingException e) {
      problems.add("auth.keysFile", "'" + written + "' is not UTF-8 text (expected a UTF-8 YAML"
          + " file with keys: and teams:)");
      return null;
    } catch (IOException e) {
      problems.add("auth.keysFile", "'" + written + "' cannot be read (" + file + ": "
          + e.getClass().getSimpleName() + "; expected a readable YAML file)");
      return null;
    }
    Problems fileProblems = new Problems(file);
    otherFiles.add(fileProblems);
    LocationIndex index = LocationIndex.build(text, fileProblems);
    if (index == null) {
      return null;
    }
    fileProblems.useIndex(index);
    if (index.isEmpty()) {
      return new Source(fileProblems, "keys", "teams", null, null);
    }
    KeysFileYaml raw = RawBinder.bind(text, KeysFileYaml.class, fileProblems);
    return raw == null ? null : new Source(fileProblems, "keys", "teams", raw.keys(), raw.teams());
  }

  private Map<String, Access.Team> teams(List<Source> sources) {
    Map<String, Access.Team> out = new LinkedHashMap<>();
    Map<String, String> where = new HashMap<>();
    for (Source s : sources) {
      Problems p = s.problems();
      if (s.teams() == null) {
        absentOrEmpty(p, s.teamsPath(), "a mapping of teams by name, e.g."
            + " support: {budget: {period: month, hard: 500}}");
        continue;
      }
      s.teams().forEach((name, t) -> {
        String path = YamlPath.child(s.teamsPath(), name);
        if (!NAME.matcher(name).matches()) {
          p.add(path, "team name '" + name + "' is not valid (expected " + NAME_EXPECTED + ")");
          return;
        }
        String first = where.putIfAbsent(name, p.where(path));
        if (first != null) {
          p.add(path, "team '" + name + "' is already defined at " + first
              + " (expected each team once)");
          return;
        }
        int before = p.count();
        Access.Budget budget = t == null ? null
            : budget(p, YamlPath.child(path, "budget"), t.budget());
        if (p.count() == before) {
          out.put(name, new Access.Team(name, budget));
        }
      });
    }
    return out;
  }

  private Access.ApiKey key(Source s, String name, KeyYaml k, Set<String> teams,
      Set<String> aliases) {
    Problems p = s.problems();
    String path = YamlPath.child(s.keysPath(), name);
    int before = p.count();
    if (!NAME.matcher(name).matches()) {
      p.add(path, "key name '" + name + "' is not valid (expected " + NAME_EXPECTED + ")");
    }
    String first = keyNames.putIfAbsent(name, p.where(path));
    if (first != null) {
      p.add(path, "key '" + name + "' is already defined at " + first
          + " (expected each key name once)");
      return null;
    }
    if (k == null) {
      p.add(path, "no settings (expected a mapping with at least sha256: " + SHA256_EXPECTED + ")");
      return null;
    }
    String shaPath = YamlPath.child(path, "sha256");
    String sha = p.required(shaPath, k.sha256(), SHA256_EXPECTED, ConfigValues::sha256);
    if (sha != null) {
      Seen seen = hashes.putIfAbsent(sha, new Seen(name, p.where(shaPath)));
      if (seen != null) {
        p.add(shaPath, "key '" + name + "' has the same sha256 as key '" + seen.name() + "' at "
            + seen.where() + " (expected a different key for each name)");
      }
    }
    String teamPath = YamlPath.child(path, "team");
    String team = p.optional(teamPath, k.team(), null, "a team under teams",
        v -> ConfigValues.nonBlank(v, "a team under teams"));
    if (team != null && !teams.contains(team)) {
      p.add(teamPath, "team '" + team + "' is not configured (expected "
          + (teams.isEmpty() ? "a team under auth.teams" : "one of: " + String.join(", ", teams))
          + ")");
    }
    Set<String> tiers = names(p, YamlPath.child(path, "tiers"), k.tiers(), "tier names",
        "a tier name, e.g. balanced", v -> null);
    String models = String.join(", ", aliases);
    Set<String> allowedModels = names(p, YamlPath.child(path, "models"), k.models(),
        "model aliases", "auto or a configured model alias", v -> v.equals(ConfigCompiler.RESERVED_ALIAS)
            || aliases.contains(v) ? null : "'" + v + "' is not a configured model alias (expected"
            + " auto" + (aliases.isEmpty() ? "" : " or one of: " + models) + ")");
    Integer rpm = p.optional(YamlPath.child(path, "requestsPerMinute"), k.requestsPerMinute(), 0,
        RPM_EXPECTED, v -> ConfigValues.intIn(v, 0, Integer.MAX_VALUE, RPM_EXPECTED));
    Long tpm = p.optional(YamlPath.child(path, "tokensPerMinute"), k.tokensPerMinute(), 0L,
        TPM_EXPECTED, v -> ConfigValues.longIn(v, 0, Long.MAX_VALUE, TPM_EXPECTED));
    Access.Budget budget = budget(p, YamlPath.child(path, "budget"), k.budget());
    Boolean revoked = p.optional(YamlPath.child(path, "revoked"), k.revoked(), false, BOOLEAN,
        ConfigValues::bool);
    Boolean mayForceTier = p.optional(YamlPath.child(path, "mayForceTier"), k.mayForceTier(),
        false, BOOLEAN, ConfigValues::bool);
    if (p.count() > before) {
      return null;
    }
    return new Access.ApiKey(name, sha, team, tiers, allowedModels, rpm, tpm, budget, revoked,
        mayForceTier);
  }

  /**
   * The names of a list such as {@code tiers}: absent means all, so an empty list is refused.
   *
   * @param check the problem with one name, or {@code null} when it is fine
   */
  private static Set<String> names(Problems p, String path, List<String> raw, String what,
      String expected, Function<String, String> check) {
    if (raw == null) {
      absentOrEmpty(p, path, "a list of " + what + "; leave the key out to allow all");
      return Set.of();
    }
    if (raw.isEmpty()) {
      p.add(path, "empty list (expected at least one: " + expected + "; leave the key out to allow"
          + " all)");
      return Set.of();
    }
    Set<String> out = new LinkedHashSet<>();
    for (int i = 0; i < raw.size(); i++) {
      String at = YamlPath.element(path, i);
      String v = raw.get(i) == null ? "" : raw.get(i).strip();
      if (v.isEmpty()) {
        p.add(at, "is blank (expected " + expected + ")");
        continue;
      }
      String problem = check.apply(v);
      if (problem != null) {
        p.add(at, problem);
      } else if (!out.add(v)) {
        p.add(at, "'" + v + "' is listed twice (expected each once)");
      }
    }
    return out;
  }

  /** A budget, or {@code null} when none is written or it has a problem (recorded). */
  private static Access.Budget budget(Problems p, String path, BudgetYaml b) {
    if (b == null) {
      absentOrEmpty(p, path, BUDGET_EXPECTED + "; leave the key out for no budget");
      return null;
    }
    int before = p.count();
    Access.Period period = p.optional(YamlPath.child(path, "period"), b.period(),
        Access.Period.DAY, "day or month", AccessCompiler::period);
    String hardPath = YamlPath.child(path, "hard");
    String softPath = YamlPath.child(path, "soft");
    Double hard = p.optional(hardPath, b.hard(), null, MONEY_EXPECTED,
        v -> ConfigValues.money(v, MONEY_EXPECTED));
    Double soft = p.optional(softPath, b.soft(), null, MONEY_EXPECTED,
        v -> ConfigValues.money(v, MONEY_EXPECTED));
    boolean softWritten = b.soft() != null || p.present(softPath);
    String downgradePath = YamlPath.child(path, "downgrade");
    Boolean downgrade = p.optional(downgradePath, b.downgrade(), softWritten, BOOLEAN,
        ConfigValues::bool);
    if (!softWritten && b.hard() == null && !p.present(hardPath)) {
      p.add(path, "no amount (expected hard:, soft: or both, in US dollars, e.g."
          + " {period: day, hard: 5.00, soft: 4.00})");
    }
    if (hard != null && soft != null && soft > hard) {
      p.add(softPath, "'" + b.soft().strip() + "' is more than hard '" + b.hard().strip()
          + "' (expected soft <= hard)");
    }
    if (Boolean.TRUE.equals(downgrade) && b.downgrade() != null && !softWritten) {
      p.add(downgradePath, "'" + b.downgrade().strip() + "' needs a soft budget to act on"
          + " (expected soft: too, or leave downgrade out)");
    }
    if (p.count() > before) {
      return null;
    }
    return new Access.Budget(period, hard == null ? Double.NaN : hard,
        soft == null ? Double.NaN : soft, downgrade);
  }

  private static Access.Period period(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "day" -> Access.Period.DAY;
      case "month" -> Access.Period.MONTH;
      default -> throw new IllegalArgumentException(
          "'" + s + "' is not a budget period (expected day or month)");
    };
  }

  /** For a key whose absence means "none" or "all": written with no value is a problem. */
  private static void absentOrEmpty(Problems p, String path, String expected) {
    if (p.present(path)) {
      p.add(path, "no value (expected " + expected + ")");
    }
  }
}
