package dev.llmgw.core.ingress;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;

/**
 * Where, in a request body, the top-level object starts and the top-level {@code model} string value
 * lies (byte offsets from the body's reader index; {@code modelEnd} is exclusive and includes the
 * closing quote). Knowing them, the upstream body is a splice of the client's bytes around a new
 * model name — no re-serialisation of the whole tree (which the profile showed as the top cost of a
 * proxied request, docs/benchmarks.md).
 */
public record ModelLocation(int objectStart, int modelStart, int modelEnd) {
  public static final ModelLocation UNKNOWN = new ModelLocation(-1, -1, -1);

  public boolean known() {
    return modelStart >= 0;
  }

  /**
   * Finds the offsets with a streaming pass that stops at the {@code model} field (usually the
   * first), skipping nested values without building them. Borrows {@code body}; never throws
   * (UNKNOWN when anything is unusual: the caller then re-serialises).
   */
  public static ModelLocation locate(ByteBuf body) {
    try (JsonParser p = RequestParser.JSON.getFactory().createParser(
        (java.io.InputStream) new ByteBufInputStream(body.duplicate()))) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return UNKNOWN;
      }
      long objectStart = p.currentTokenLocation().getByteOffset();
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        boolean isModel = "model".equals(p.currentName());
        JsonToken value = p.nextToken();
        if (isModel) {
          if (value != JsonToken.VALUE_STRING) {
            return UNKNOWN;
          }
          long start = p.currentTokenLocation().getByteOffset();
          p.getTextLength(); // finishes the token: the location is now past the closing quote
          long end = p.currentLocation().getByteOffset();
          if (objectStart < 0 || start <= objectStart || end <= start || end > body.readableBytes()
              || body.getByte(body.readerIndex() + (int) start) != '"'
              || body.getByte(body.readerIndex() + (int) end - 1) != '"') {
            return UNKNOWN;
          }
          return new ModelLocation((int) objectStart, (int) start, (int) end);
        }
        p.skipChildren();
      }
      return UNKNOWN;
    } catch (IOException | RuntimeException e) {
      return UNKNOWN;
    }
  }
}
