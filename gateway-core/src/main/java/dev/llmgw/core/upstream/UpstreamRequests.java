package dev.llmgw.core.upstream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.core.http.TrustedHeaders;
import dev.llmgw.core.ingress.ModelLocation;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.route.Route;
import dev.llmgw.core.usage.StreamOptions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Builds the request sent to a backend. It is built from scratch, never copied from the client's:
 * only the body travels, with {@code model} rewritten to the backend's name, so the client's
 * {@code Authorization}, hop-by-hop headers and anything else it sent stay behind. The provider key
 * comes from config alone.
 */
public final class UpstreamRequests {
  public static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
  private static final AsciiString USER_AGENT = AsciiString.cached("llm-gateway/0.1");
  private static final AsciiString EVENT_STREAM = AsciiString.cached("text/event-stream");

  private UpstreamRequests() {}

  /**
   * @param body the client's body, borrowed: forwarded as a retained duplicate when the model name
   *             needs no rewrite, so each attempt can replay it
   */
  public static FullHttpRequest build(Route route, ParsedRequest request, ByteBuf body, String requestId,
      ByteBufAllocator alloc) {
    return build(route, request, body, requestId, alloc, true);
  }

  /** @param splice false forces the re-serialising path (tests compare the two) */
  static FullHttpRequest build(Route route, ParsedRequest request, ByteBuf body, String requestId,
      ByteBufAllocator alloc, boolean splice) {
    boolean askUsage = injectsUsage(request);
    long bound = request.outputBound();
    ByteBuf content = null;
    if (route.backendModel().equals(request.model()) && !askUsage && bound < 0) {
      content = body.retainedDuplicate();
    } else if (splice && !(askUsage && request.hasStreamOptions())) {
      // located by the parser; unknown (e.g. the body has two model fields): re-serialised below
      ModelLocation at = request.modelLocation();
      if (at.known()) {
        content = splice(body, at, route.backendModel(), insertion(askUsage, bound), alloc);
      }
    }
    if (content == null) {
      ObjectNode copy = askUsage ? StreamOptions.withUsageRequested(request.json()) : shallowCopy(request.json());
      if (bound > 0) {
        copy.put("max_tokens", bound);
      }
      content = rewrite(copy, route.backendModel(), alloc);
    }
    String uri = route.backend().basePath() + request.endpoint().path();
    FullHttpRequest out = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, uri, content,
        TrustedHeaders.HEADERS, TrustedHeaders.TRAILERS);
    HttpHeaders h = out.headers(); // fresh and each name once: add, never a lookup for a value to replace
    h.add(HttpHeaderNames.HOST, hostHeader(route));
    h.add(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    h.addInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
    h.add(HttpHeaderNames.ACCEPT, request.stream() ? EVENT_STREAM : HttpHeaderValues.APPLICATION_JSON);
    h.add(HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderValues.IDENTITY);
    h.add(HttpHeaderNames.USER_AGENT, USER_AGENT);
    h.add(X_REQUEST_ID, requestId);
    route.backend().providerKey().ifPresent(k -> h.add(HttpHeaderNames.AUTHORIZATION, "Bearer " + k));
    return out;
  }

  private static String hostHeader(Route route) {
    var b = route.backend();
    boolean defaultPort = b.port() == (b.tls() ? 443 : 80);
    String host = b.host().indexOf(':') >= 0 && !b.host().startsWith("[") ? "[" + b.host() + "]" : b.host();
    return defaultPort ? host : host + ":" + b.port();
  }

  /**
   * Whether the gateway adds {@code stream_options.include_usage} for this request: every stream
   * whose client did not ask for usage (the usage chunk is then stripped before the client sees it).
   */
  public static boolean injectsUsage(ParsedRequest request) {
    return request.stream() && !request.clientAskedForUsage();
  }

  private static final byte[] INCLUDE_USAGE =
      "\"stream_options\":{\"include_usage\":true},".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /**
   * The client's bytes with the model value replaced (and {@code stream_options} and the gateway's
   * {@code max_tokens} bound inserted as the object's first fields when needed), copied into one pooled direct buffer. The body
   * stays untouched for the next attempt. One copy of a request body is cheaper than the composite
   * of retained slices around two small heap arrays it replaces: the composite cost five objects, and
   * its heap parts sent the whole write through a copy anyway (docs/benchmarks.md).
   */
  static ByteBuf splice(ByteBuf body, ModelLocation at, String model, boolean askUsage,
      ByteBufAllocator alloc) {
    return splice(body, at, model, insertion(askUsage, -1), alloc);
  }

  /** What goes in front of the object's first field: the usage switch and an output bound, or nothing. */
  private static byte[] insertion(boolean askUsage, long bound) {
    if (bound <= 0) {
      return askUsage ? INCLUDE_USAGE : NOTHING;
    }
    byte[] b = ("\"max_tokens\":" + bound + ",").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    if (!askUsage) {
      return b;
    }
    byte[] both = java.util.Arrays.copyOf(INCLUDE_USAGE, INCLUDE_USAGE.length + b.length);
    System.arraycopy(b, 0, both, INCLUDE_USAGE.length, b.length);
    return both;
  }

  private static final byte[] NOTHING = new byte[0];

  private static ByteBuf splice(ByteBuf body, ModelLocation at, String model, byte[] insert,
      ByteBufAllocator alloc) {
    int base = body.readerIndex();
    byte[] name = jsonString(model);
    int size = body.readableBytes() - (at.modelEnd() - at.modelStart()) + name.length + insert.length;
    ByteBuf out = alloc.directBuffer(size);
    try {
      if (insert.length > 0) {
        out.writeBytes(body, base, at.objectStart() + 1);
        out.writeBytes(insert);
        out.writeBytes(body, base + at.objectStart() + 1, at.modelStart() - at.objectStart() - 1);
      } else {
        out.writeBytes(body, base, at.modelStart());
      }
      out.writeBytes(name);
      out.writeBytes(body, base + at.modelEnd(), body.readableBytes() - at.modelEnd());
      return out;
    } catch (RuntimeException e) {
      out.release(); // a location that does not fit the body: nothing half-built is left behind
      throw e;
    }
  }

  /** Backend model names as JSON strings: names come from configuration only, so the map is bounded. */
  private static final ConcurrentHashMap<String, byte[]> JSON_NAMES =
      new ConcurrentHashMap<>();

  private static byte[] jsonString(String s) {
    byte[] b = JSON_NAMES.get(s);
    if (b == null) {
      b = encodeJsonString(s);
      if (JSON_NAMES.size() < 4096) { // a guard, should a caller ever pass something else
        JSON_NAMES.put(s, b);
      }
    }
    return b;
  }

  private static byte[] encodeJsonString(String s) {
    byte[] escaped = com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance().quoteAsUTF8(s);
    byte[] out = new byte[escaped.length + 2];
    out[0] = '"';
    System.arraycopy(escaped, 0, out, 1, escaped.length);
    out[out.length - 1] = '"';
    return out;
  }

  private static ObjectNode shallowCopy(ObjectNode json) {
    ObjectNode copy = json.objectNode(); // shallow: shares the children, leaves the parsed body untouched
    copy.setAll(json);
    return copy;
  }

  /** Serialises {@code copy} (a copy the caller owns) with {@code model} set. */
  private static ByteBuf rewrite(ObjectNode copy, String model, ByteBufAllocator alloc) {
    copy.put("model", model);
    ByteBuf buf = alloc.buffer();
    try (ByteBufOutputStream out = new ByteBufOutputStream(buf)) {
      RequestParser.JSON.writeValue((java.io.OutputStream) out, copy);
    } catch (IOException e) {
      buf.release();
      throw new UncheckedIOException(e);
    }
    return buf;
  }
}
