package dev.llmgw.core.usage;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteBufferFeeder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Walks a JSON body chunk by chunk: one Jackson non-blocking parser is fed {@link ByteBuffer} views of
 * each chunk (no copy; one view per component of a composite) and hands every token to a
 * {@link ResponseWalker}, up to the end of the body's root value; nothing after it is parsed. Parse
 * errors are thrown. Not thread-safe.
 */
final class JsonBodyWalk {
  private final ResponseWalker walker;
  private final JsonParser parser;
  private final ByteBufferFeeder feeder;
  private long fed; // bytes fed before the current chunk
  private long rootEnd = -1; // offset just past the root value, once it ended
  private boolean rootStarted;
  private boolean rootNotObject;

  JsonBodyWalk(ResponseWalker walker) throws IOException {
    this.walker = walker;
    this.parser = ResponseWalker.JSON.createNonBlockingByteBufferParser();
    this.feeder = (ByteBufferFeeder) parser.getNonBlockingInputFeeder();
    walker.resetStructure();
  }

  /**
   * Feeds the readable bytes of {@code chunk} (borrowed, unchanged) up to the end of the root value:
   * returns the index in {@code chunk} just past the root value when it ended in this chunk (its writer
   * index if at its very end), else -1. Once the value ended, nothing more is fed.
   */
  int feed(ByteBuf chunk) throws IOException {
    if (rootEnd >= 0) {
      return -1;
    }
    long before = fed;
    int from = chunk.readerIndex();
    int len = chunk.readableBytes();
    fed += len;
    int n = chunk.nioBufferCount();
    if (n == 1) {
      feedOne(chunk.nioBuffer(from, len));
    } else if (n > 1) {
      for (ByteBuffer b : chunk.nioBuffers(from, len)) {
        if (feedOne(b)) {
          break;
        }
      }
    } else {
      feedOne(ByteBuffer.wrap(ByteBufUtil.getBytes(chunk, from, len)));
    }
    return rootEnd >= 0 ? from + (int) (rootEnd - before) : -1;
  }

  /** No more input: whatever the parser still holds is walked. */
  void endOfInput() throws IOException {
    if (rootEnd < 0) {
      feeder.endOfInput();
      drain();
    }
  }

  /** Whether the root value ended. */
  boolean rootEnded() {
    return rootEnd >= 0;
  }

  /** Whether the body's value (once it started) is anything but an object. */
  boolean rootNotObject() {
    return rootNotObject;
  }

  /** Lets the parser go. */
  void close() {
    try {
      parser.close();
    } catch (IOException | RuntimeException ignored) {
      // nothing to do: the parser only returns its buffers
    }
  }

  /** Feeds one view; returns whether the root value ended. */
  private boolean feedOne(ByteBuffer b) throws IOException {
    if (b.hasRemaining()) {
      feeder.feedInput(b);
      drain();
    }
    return rootEnd >= 0;
  }

  private void drain() throws IOException {
    JsonToken t;
    while ((t = parser.nextToken()) != JsonToken.NOT_AVAILABLE && t != null) {
      if (!rootStarted) {
        rootStarted = true;
        rootNotObject = t != JsonToken.START_OBJECT;
      }
      walker.token(t, parser);
      if (walker.rootsEnded() > 0) {
        rootEnd = parser.currentLocation().getByteOffset();
        return;
      }
    }
  }
}
