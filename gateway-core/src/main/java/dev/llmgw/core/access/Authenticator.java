package dev.llmgw.core.access;

import dev.llmgw.core.config.Access;
import dev.llmgw.core.config.Secrets;
import dev.llmgw.core.error.GatewayError;
import dev.llmgw.core.error.GatewayException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Identifies the caller from the credential the OpenAI SDKs send ({@code Authorization: Bearer ...},
 * or {@code api-key}). Keys are compared by their SHA-256 (the config holds only hashes); the admin
 * token by a constant-time comparison of hashes. Nothing here logs or returns a credential.
 */
public final class Authenticator {
  private final Access access;

  public Authenticator(Access access) {
    this.access = access;
  }

  /** The credential from the request's headers, or null. */
  public static String credential(String authorization, String apiKey) {
    if (authorization != null) {
      String a = authorization.strip();
      if (a.regionMatches(true, 0, "Bearer ", 0, 7)) {
        String token = a.substring(7).strip();
        return token.isEmpty() ? null : token;
      }
      return null;
    }
    return apiKey == null || apiKey.isBlank() ? null : apiKey.strip();
  }

  /**
   * The identity for an API request.
   *
   * @throws GatewayException 401 for a missing (on a closed gateway), unknown or revoked key
   */
  public Identity forApi(String credential) {
    if (credential == null) {
      if (access.open()) {
        return Identity.ANONYMOUS;
      }
      throw new GatewayException(unauthorized("Missing credentials. Send your gateway key as 'Authorization:"
          + " Bearer <key>'.", "missing_api_key"));
    }
    Access.ApiKey key = access.keys().get(Secrets.sha256Hex(credential));
    if (key == null) {
      if (access.open()) {
        return Identity.ANONYMOUS; // an open gateway ignores credentials it does not know (SDKs always send one)
      }
      throw new GatewayException(unauthorized("Incorrect API key provided.", "invalid_api_key"));
    }
    if (key.revoked()) {
      throw new GatewayException(unauthorized("This API key has been revoked.", "revoked_api_key"));
    }
    return new Identity(key, false);
  }

  /** Whether the credential is the admin token (constant time over the hashes). */
  public boolean isAdmin(String credential) {
    String expected = access.adminTokenSha256();
    if (credential == null || expected == null) {
      return false;
    }
    return MessageDigest.isEqual(Secrets.sha256Hex(credential).getBytes(StandardCharsets.US_ASCII),
        expected.getBytes(StandardCharsets.US_ASCII));
  }

  /**
   * Checks an admin request.
   *
   * @throws GatewayException 401 without a credential or with an unknown one, 403 with a valid
   *     gateway key that is not the admin token
   */
  public Identity forAdmin(String credential) {
    if (isAdmin(credential)) {
      return Identity.ADMIN;
    }
    if (credential == null) {
      throw new GatewayException(unauthorized("This endpoint needs the admin token ('Authorization: Bearer"
          + " <token>').", "missing_api_key"));
    }
    Access.ApiKey key = access.keys().get(Secrets.sha256Hex(credential));
    if (key != null && !key.revoked()) {
      throw new GatewayException(GatewayError.forbidden("This key may not use admin endpoints."));
    }
    throw new GatewayException(unauthorized("Incorrect admin token provided.", "invalid_api_key"));
  }

  private static GatewayError unauthorized(String message, String code) {
    return GatewayError.unauthorized(code, message);
  }
}
