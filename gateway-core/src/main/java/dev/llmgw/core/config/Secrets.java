package dev.llmgw.core.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Hashing of gateway keys and the admin token. The config holds only hashes; the runtime hashes the
 * credential a client presents the same way and looks the hash up, so the clear value is never kept.
 */
public final class Secrets {

  private Secrets() {}

  /**
   * The lower-case hex SHA-256 of the UTF-8 bytes of {@code secret}: what
   * {@code printf %s "$KEY" | sha256sum} prints.
   */
  public static String sha256Hex(String secret) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }

  /** Shortest piece of a secret that counts as a leak when it shows up in text. */
  public static final int LEAK_WINDOW = 8;

  /**
   * Whether {@code text} contains any {@link #LEAK_WINDOW}-character piece of {@code secret} (a
   * provider echoing part of the key in an error message, for instance).
   */
  public static boolean mentions(String text, String secret) {
    if (text == null || secret == null || secret.length() < LEAK_WINDOW) {
      return text != null && secret != null && !secret.isEmpty() && text.contains(secret);
    }
    for (int i = 0; i + LEAK_WINDOW <= secret.length(); i++) {
      if (text.contains(secret.substring(i, i + LEAK_WINDOW))) {
        return true;
      }
    }
    return false;
  }
}
