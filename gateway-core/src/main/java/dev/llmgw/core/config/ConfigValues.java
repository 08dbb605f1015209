package dev.llmgw.core.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parsers for the scalar values of {@code gateway.yaml}. Each takes the text as written (trimmed) and
 * either returns the value or throws {@link IllegalArgumentException} whose message states the bad
 * value and what was expected.
 */
final class ConfigValues {

  static final String SIZE_EXPECTED = "a size in bytes, e.g. 65536, 512KB, 16KiB or 1MiB";
  static final String DURATION_EXPECTED = "e.g. 500ms, 2s, 1m";
  static final Duration MAX_DURATION = Duration.ofHours(24);
  static final String PERCENT_EXPECTED = "a percentage above 0% up to 100%, e.g. 50%";
  static final String MULTIPLIER_EXPECTED = "a number of at least 1.0, e.g. 2.0";
  static final String HEALTH_PATH_EXPECTED =
      "a path starting with '/', appended to the backend's base URL, e.g. /models";

  private static final Pattern SIZE =
      Pattern.compile("(\\d+)\\s*((?:[kmg]i?)?b)?", Pattern.CASE_INSENSITIVE);
  private static final Map<String, Long> SIZE_UNITS = Map.of(
      "b", 1L, "kb", 1000L, "mb", 1000L * 1000, "gb", 1000L * 1000 * 1000,
      "kib", 1L << 10, "mib", 1L << 20, "gib", 1L << 30);
  private static final Pattern DURATION =
      Pattern.compile("(\\d+)\\s*(ms|s|m|h)", Pattern.CASE_INSENSITIVE);
  private static final Pattern INTEGER = Pattern.compile("[-+]?\\d+");
  private static final Pattern PERCENT = Pattern.compile("(\\d{1,9}(?:\\.\\d{1,9})?)\\s*(%)?");
  private static final Pattern DECIMAL = Pattern.compile("\\d{1,9}(?:\\.\\d{1,9})?");
  private static final Pattern HEALTH_PATH = Pattern.compile("/[^\\s#]*");
  private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");
  private static final Pattern MONEY = Pattern.compile("\\d{1,12}(?:\\.\\d{1,9})?");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private ConfigValues() {}

  /** A size: plain bytes, or a number with B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB. */
  static int size(String s) {
    Matcher m = SIZE.matcher(s);
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + s + "' is not a size (expected " + SIZE_EXPECTED + ")");
    }
    long unit = m.group(2) == null ? 1 : SIZE_UNITS.get(m.group(2).toLowerCase(Locale.ROOT));
    long bytes;
    try {
      bytes = Math.multiplyExact(Long.parseLong(m.group(1)), unit);
    } catch (NumberFormatException | ArithmeticException e) {
      bytes = Long.MAX_VALUE;
    }
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("'" + s + "' is too large (expected at most 2047MiB)");
    }
    if (bytes == 0) {
      throw new IllegalArgumentException("'" + s + "' is zero (expected a size above 0, e.g. 64KiB)");
    }
    return (int) bytes;
  }

  /** A duration: a whole number with ms, s, m or h; above zero and at most a day. */
  static Duration duration(String s) {
    Matcher m = DURATION.matcher(s);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'" + s + "' is not a duration (expected " + DURATION_EXPECTED + ")");
    }
    Duration d;
    try {
      long n = Long.parseLong(m.group(1));
      d = switch (m.group(2).toLowerCase(Locale.ROOT)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    } catch (NumberFormatException | ArithmeticException e) {
      d = MAX_DURATION.plusMillis(1);
    }
    if (d.isZero()) {
      throw new IllegalArgumentException(
          "'" + s + "' is zero (expected a duration above 0, " + DURATION_EXPECTED + ")");
    }
    if (d.compareTo(MAX_DURATION) > 0) {
      throw new IllegalArgumentException("'" + s + "' is too long (expected at most 24h)");
    }
    return d;
  }

  /** A TCP port, 0 (ephemeral) to 65535. */
  static int port(String s) {
    if (s.matches("\\d{1,5}") && Integer.parseInt(s) <= 65535) {
      return Integer.parseInt(s);
    }
    throw new IllegalArgumentException("'" + s + "' is not a port (expected an integer 0..65535)");
  }

  /** An integer above zero. */
  static int positiveInt(String s) {
    if (s.matches("\\d{1,9}") && Integer.parseInt(s) > 0) {
      return Integer.parseInt(s);
    }
    throw new IllegalArgumentException("'" + s + "' is not a positive integer (expected e.g. 64)");
  }

  /**
   * An integer in {@code min..max}.
   *
   * @param expected what the message says was expected, e.g. {@code an integer 1..10}
   */
  static int intIn(String s, int min, int max, String expected) {
    return (int) longIn(s, min, max, expected);
  }

  /**
   * A percentage above 0 and at most 100: {@code 50%}, {@code 12.5%}, or a plain number
   * {@code 50}. A plain number below 1 with a fraction ({@code 0.5}) is refused as ambiguous: it
   * reads like a ratio.
   */
  static float percent(String s) {
    Matcher m = PERCENT.matcher(s);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'" + s + "' is not a percentage (expected " + PERCENT_EXPECTED + ")");
    }
    double v = Double.parseDouble(m.group(1));
    if (v == 0) {
      throw new IllegalArgumentException("'" + s + "' is zero (expected " + PERCENT_EXPECTED + ")");
    }
    if (v > 100) {
      throw new IllegalArgumentException(
          "'" + s + "' is more than 100% (expected " + PERCENT_EXPECTED + ")");
    }
    if (m.group(2) == null && v < 1 && m.group(1).contains(".")) {
      throw new IllegalArgumentException("'" + s + "' is ambiguous (expected a percentage such as "
          + Math.round(v * 100) + "%; write " + m.group(1) + "% if " + m.group(1) + " percent is"
          + " meant)");
    }
    return (float) v;
  }

  /** A backoff multiplier: a number of at least 1.0. */
  static double multiplier(String s) {
    if (!DECIMAL.matcher(s).matches()) {
      throw new IllegalArgumentException(
          "'" + s + "' is not a number (expected " + MULTIPLIER_EXPECTED + ")");
    }
    double v = Double.parseDouble(s);
    if (v < 1.0) {
      throw new IllegalArgumentException(
          "'" + s + "' is less than 1.0 (expected " + MULTIPLIER_EXPECTED + ")");
    }
    return v;
  }

  /**
   * A health-check path, appended to the backend's base URL path: starts with {@code /}, no
   * whitespace or fragment, e.g. {@code /models}.
   */
  static String healthPath(String s) {
    if (!s.startsWith("/")) {
      throw new IllegalArgumentException(
          "'" + s + "' does not start with '/' (expected " + HEALTH_PATH_EXPECTED + ")");
    }
    if (!HEALTH_PATH.matcher(s).matches()) {
      throw new IllegalArgumentException("'" + s + "' holds whitespace or a '#' fragment (expected "
          + HEALTH_PATH_EXPECTED + ")");
    }
    try {
      new URI("http://host" + s);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("'" + s + "' is not a URL path: " + e.getReason()
          + " (expected " + HEALTH_PATH_EXPECTED + ")");
    }
    return s;
  }

  /** Any text that is not blank. */
  static String nonBlank(String s, String expected) {
    if (s.isBlank()) {
      throw new IllegalArgumentException("is blank (expected " + expected + ")");
    }
    return s;
  }

  /** An environment variable name. */
  static String envName(String s) {
    if (!ENV_NAME.matcher(s).matches()) {
      // the value is not repeated: operators paste the key itself here by mistake
      throw new IllegalArgumentException("the value (" + s.length() + " characters, not shown: it may be a"
          + " secret) is not an environment variable name (expected letters, digits and '_', e.g. OPENAI_API_KEY)");
    }
    return s;
  }

  /** An absolute http or https URL with a host, without credentials, query or fragment. */
  static URI baseUrl(String s) {
    String expected = " (expected an http or https URL, e.g. http://127.0.0.1:8081/v1)";
    URI uri;
    try {
      uri = new URI(s);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("'" + s + "' is not a URL: " + e.getReason() + expected);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException("'" + s + "' is not an http or https URL" + expected);
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new IllegalArgumentException("'" + s + "' has no (valid) host" + expected);
    }
    if (uri.getRawUserInfo() != null) {
      throw new IllegalArgumentException("'" + s.replace(uri.getRawUserInfo(), "***")
          + "' holds credentials (expected a URL without user:password@; keys go in apiKeyEnv)");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(
          "'" + s + "' has a query or fragment (expected a base URL such as https://api.openai.com/v1)");
    }
    return scheme.equals(uri.getScheme()) ? uri
        : URI.create(scheme + s.substring(uri.getScheme().length()));
  }

  /** {@code true} or {@code false} (any case). */
  static boolean bool(String s) {
    if (s.equalsIgnoreCase("true")) {
      return true;
    }
    if (s.equalsIgnoreCase("false")) {
      return false;
    }
    throw new IllegalArgumentException("'" + s + "' is not a boolean (expected true or false)");
  }

  /**
   * An integer in {@code min..max}, as a long.
   *
   * @param expected what the message says was expected
   */
  static long longIn(String s, long min, long max, String expected) {
    if (!INTEGER.matcher(s).matches()) {
      throw new IllegalArgumentException("'" + s + "' is not an integer (expected " + expected + ")");
    }
    long n;
    try {
      n = Long.parseLong(s.startsWith("+") ? s.substring(1) : s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + s + "' is out of range (expected " + expected + ")");
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException("'" + s + "' is out of range (expected " + expected + ")");
    }
    return n;
  }

  /** An amount of money: a plain decimal number 0 or above, e.g. {@code 5}, {@code 4.50}. */
  static double money(String s, String expected) {
    if (!MONEY.matcher(s).matches()) {
      throw new IllegalArgumentException("'" + s + "' is not an amount (expected " + expected + ")");
    }
    return Double.parseDouble(s);
  }

  /**
   * A hex SHA-256 (64 hex digits, either case), returned in lower case. The value is never repeated
   * in the message: what was written there may be the secret itself.
   */
  static String sha256(String s) {
    if (!SHA256.matcher(s).matches()) {
      throw new IllegalArgumentException("is not a SHA-256 hash (expected 64 hex digits, as printed"
          + " by printf %s \"$KEY\" | sha256sum; the value is not shown, in case it is a secret)");
    }
    return s.toLowerCase(Locale.ROOT);
  }
}
