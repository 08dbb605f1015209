package dev.llmgw.core.state;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * A Lua script of this package's resources ({@code lease.lua}, {@code ledger-record.lua}, ...), run by
 * its SHA-1 and sent whole when Redis does not know it (first use, after a restart or a
 * {@code SCRIPT FLUSH}).
 */
record RedisScript(String body, String sha) {

  /** Reads {@code name} next to this class; a missing resource is a build error, so it throws. */
  static RedisScript load(String name) {
    try (InputStream in = RedisScript.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name);
      }
      String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return new RedisScript(body, sha1(body));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha1(String s) {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(d);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code EVALSHA}, then {@code EVAL} with the body when Redis answers {@code NOSCRIPT}; never blocks. */
  <T> CompletableFuture<T> run(RedisAsyncCommands<String, String> redis, ScriptOutputType type, String[] keys,
      String[] args) {
    CompletableFuture<T> out = new CompletableFuture<>();
    redis.<T>evalsha(sha, type, keys, args).whenComplete((r, failure) -> {
      if (failure instanceof RedisNoScriptException
          || failure != null && String.valueOf(failure.getMessage()).startsWith("NOSCRIPT")) {
        redis.<T>eval(body, type, keys, args).whenComplete((r2, f2) -> {
          if (f2 != null) {
            out.completeExceptionally(f2);
          } else {
            out.complete(r2);
          }
        });
      } else if (failure != null) {
        out.completeExceptionally(failure);
      } else {
        out.complete(r);
      }
    });
    return out;
  }
}
