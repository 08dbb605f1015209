package dev.llmgw.core.upstream.inprocess;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The in-process backend's answers in the OpenAI shape: a {@code chat.completion} or
 * {@code text_completion} body, or the events of a stream — {@code data: {chunk}\n\n} per piece, a
 * last chunk with the finish reason, the usage chunk ({@code choices: []}) when
 * {@code stream_options.include_usage} asked for it, and {@code data: [DONE]}.
 */
final class OpenAiWire {
  private static final JsonFactory JSON = new JsonFactory();
  private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

  /** What every body or chunk of one response repeats. */
  record Ids(String id, long created, String model, boolean chat) {}

  private OpenAiWire() {}

  /** The whole answer of a plain request. */
  static ByteBuf body(ByteBufAllocator alloc, Ids ids, String text, String finishReason, int promptTokens,
      int completionTokens) {
    return write(alloc.buffer(256 + text.length() * 2), g -> {
      g.writeStartObject();
      head(g, ids, false);
      g.writeArrayFieldStart("choices");
      g.writeStartObject();
      g.writeNumberField("index", 0);
      if (ids.chat()) {
        g.writeObjectFieldStart("message");
        g.writeStringField("role", "assistant");
        g.writeStringField("content", text);
        g.writeNullField("refusal");
        g.writeEndObject();
      } else {
        g.writeStringField("text", text);
      }
      g.writeNullField("logprobs");
      g.writeStringField("finish_reason", finishReason);
      g.writeEndObject();
      g.writeEndArray();
      usage(g, promptTokens, completionTokens);
      g.writeEndObject();
    }, false);
  }

  /**
   * One event of a stream: a piece of text ({@code delta.content} / {@code text}), the chat's first
   * event ({@code role}), or the last one ({@code finishReason} set, no text).
   */
  static ByteBuf chunk(ByteBufAllocator alloc, Ids ids, String text, boolean role, String finishReason) {
    return write(alloc.buffer(200 + text.length() * 2), g -> {
      g.writeStartObject();
      head(g, ids, true);
      g.writeArrayFieldStart("choices");
      g.writeStartObject();
      g.writeNumberField("index", 0);
      if (ids.chat()) {
        g.writeObjectFieldStart("delta");
        if (role) {
          g.writeStringField("role", "assistant");
        }
        if (finishReason == null) {
          g.writeStringField("content", text);
        }
        g.writeEndObject();
      } else {
        g.writeStringField("text", text);
      }
      g.writeNullField("logprobs");
      if (finishReason == null) {
        g.writeNullField("finish_reason");
      } else {
        g.writeStringField("finish_reason", finishReason);
      }
      g.writeEndObject();
      g.writeEndArray();
      g.writeEndObject();
    }, true);
  }

  /** The usage event of a stream (after the last chunk, before {@code [DONE]}). */
  static ByteBuf usageChunk(ByteBufAllocator alloc, Ids ids, int promptTokens, int completionTokens) {
    return write(alloc.buffer(256), g -> {
      g.writeStartObject();
      head(g, ids, true);
      g.writeArrayFieldStart("choices");
      g.writeEndArray();
      usage(g, promptTokens, completionTokens);
      g.writeEndObject();
    }, true);
  }

  static ByteBuf done(ByteBufAllocator alloc) {
    return alloc.buffer(DONE.length).writeBytes(DONE);
  }

  private static void head(JsonGenerator g, Ids ids, boolean chunk) throws IOException {
    g.writeStringField("id", ids.id());
    g.writeStringField("object", ids.chat() ? chunk ? "chat.completion.chunk" : "chat.completion" : "text_completion");
    g.writeNumberField("created", ids.created());
    g.writeStringField("model", ids.model());
  }

  private static void usage(JsonGenerator g, int prompt, int completion) throws IOException {
    g.writeObjectFieldStart("usage");
    g.writeNumberField("prompt_tokens", prompt);
    g.writeNumberField("completion_tokens", completion);
    g.writeNumberField("total_tokens", prompt + completion);
    g.writeEndObject();
  }

  private interface Writer {
    void write(JsonGenerator g) throws IOException;
  }

  private static ByteBuf write(ByteBuf buf, Writer w, boolean event) {
    try (OutputStream out = new ByteBufOutputStream(buf)) {
      if (event) {
        out.write(DATA);
      }
      try (JsonGenerator g = JSON.createGenerator(out)) {
        g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        w.write(g);
      }
      if (event) {
        out.write(END);
      }
      return buf;
    } catch (IOException e) {
      buf.release();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      buf.release();
      throw e;
    }
  }
}
