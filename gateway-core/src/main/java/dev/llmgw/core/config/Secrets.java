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
}
