package dev.llmgw.server.http;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.concurrent.ThreadLocalRandom;

/** The request id: the client's {@code x-request-id} when it is sane, otherwise a new one. */
public final class RequestIds {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private RequestIds() {}

  public static String fromClient(HttpHeaders headers) {
    String id = headers.get("x-request-id");
    return isSane(id) ? id : newId();
  }

  static boolean isSane(String id) {
    if (id == null || id.isEmpty() || id.length() > 128) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c <= ' ' || c >= 0x7f) {
        return false;
      }
    }
    return true;
  }

  public static String newId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long a = r.nextLong();
    long b = r.nextLong();
    char[] out = new char[4 + 24];
    out[0] = 'r';
    out[1] = 'e';
    out[2] = 'q';
    out[3] = '_';
    for (int i = 0; i < 16; i++) {
      out[4 + i] = HEX[(int) (a >>> (60 - 4 * i)) & 0xf];
    }
    for (int i = 0; i < 8; i++) {
      out[20 + i] = HEX[(int) (b >>> (60 - 4 * i)) & 0xf];
    }
    return new String(out);
  }
}
