package dev.llmgw.core.usage;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads the usage of a JSON body that is all in one buffer — the common case of a non-streamed
 * completion — with a blocking parser that skips everything but the top-level {@code usage} object
 * (the rest is only checked to be well-formed, never materialised; no text is captured).
 */
final class WholeJsonBody {
  private WholeJsonBody() {}

  /**
   * Reports the body's first top-level {@code usage} object to {@code meter}, through {@code walker}
   * (its rules for the counts), and returns whether {@code body} (borrowed, unchanged) is exactly one
   * well-formed JSON object. A usage read before the body turns out malformed is still reported.
   */
  static boolean readUsage(ByteBuf body, ResponseWalker walker, UsageMeter meter) {
    walker.resetStructure();
    walker.captureText(false);
    boolean found = false;
    try (JsonParser p = body.hasArray()
        ? ResponseWalker.JSON.createParser(body.array(), body.arrayOffset() + body.readerIndex(), body.readableBytes())
        : ResponseWalker.JSON.createParser((InputStream) new ByteBufInputStream(body.duplicate()))) {
      JsonToken t = p.nextToken();
      if (t != JsonToken.START_OBJECT) {
        return false; // an array, a scalar, or not JSON: not an OpenAI response
      }
      walker.token(t, p); // the root; then only the usage field goes through the walker
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        boolean isUsage = !found && "usage".equals(p.currentName());
        JsonToken v = p.nextToken();
        if (isUsage && v == JsonToken.START_OBJECT) {
          walker.token(t, p);
          for (int depth = 0; v != null; v = p.nextToken()) {
            walker.token(v, p);
            depth += v.isStructStart() ? 1 : v.isStructEnd() ? -1 : 0;
            if (depth == 0) {
              break;
            }
          }
          TokenUsage u = walker.usage();
          if (u != null) {
            meter.report(u);
            found = true;
          }
          continue;
        }
        p.skipChildren();
      }
      return t == JsonToken.END_OBJECT && p.nextToken() == null; // else cut short, or something after it
    } catch (IOException | RuntimeException e) {
      return false;
    } finally {
      walker.captureText(true);
    }
  }
}
