package dev.llmgw.core.usage;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import java.io.IOException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link UsageTap} of an {@code application/json} response: forwards each chunk itself, reads the
 * top-level {@code usage} and the generated text ({@link JsonBodyWalk}, or {@link WholeJsonBody} for a
 * body that arrives in one chunk), and checks that the body is exactly one well-formed JSON object
 * ({@link #malformed()}). Malformed JSON ends the reading silently (a usage read before stays). Not
 * thread-safe.
 */
final class JsonBodyTap implements UsageTap {
  private static final Logger LOG = LoggerFactory.getLogger(JsonBodyTap.class);
  private static final ByteProcessor WHITESPACE = b -> b == ' ' || b == '\n' || b == '\r' || b == '\t';

  private final UsageMeter meter = new UsageMeter();
  private final ResponseWalker walker = new ResponseWalker(meter);
  private JsonBodyWalk walk; // from the first chunk walked until done
  private boolean done; // nothing more is parsed (the value ended, or was malformed, or was read whole)
  private boolean complete; // the body's value ended
  private boolean malformed;
  private boolean ended;
  private boolean released;

  @Override
  public void onChunk(ByteBuf chunk, List<ByteBuf> out) {
    if (released || ended) {
      chunk.release();
      return;
    }
    if (!done && chunk.isReadable()) {
      walk(chunk);
    } else if (complete && !malformed && hasNonWhitespace(chunk, chunk.readerIndex())) {
      malformed = true; // something after the body's object
    }
    out.add(chunk);
  }

  /**
   * The last chunk. A body that arrives whole in it (nothing walked before) is read for its usage
   * alone; the text is then captured, by the walk, only when there is no usage (it is only ever needed
   * to estimate a missing one).
   */
  @Override
  public void onLastChunk(ByteBuf chunk, List<ByteBuf> out) {
    if (!released && !ended && !done && walk == null && chunk.isReadable()) {
      boolean wellFormed = WholeJsonBody.readUsage(chunk, walker, meter);
      malformed |= !wellFormed;
      if (meter.usage() != null) {
        ended = true;
        done = true;
        complete = wellFormed;
        out.add(chunk);
        return;
      }
    }
    onChunk(chunk, out);
    onEnd(out);
  }

  @Override
  public void onEnd(List<ByteBuf> out) {
    if (released || ended) {
      return;
    }
    ended = true;
    if (!done && walk != null) {
      try {
        walk.endOfInput();
        complete = walk.rootEnded();
      } catch (IOException | RuntimeException e) {
        malformed = true;
      }
      meter.report(walker.usage());
      done = true;
    }
    if (!complete) {
      malformed = true; // empty, cut short, or not JSON at all
    }
    closeWalk();
  }

  @Override
  public void release() {
    if (!released) {
      released = true;
      closeWalk();
    }
  }

  /** Whether the body is not one well-formed JSON object: known once it ended, or once it cannot start one. */
  @Override
  public boolean malformed() {
    return malformed;
  }

  @Override
  public TokenUsage usage() {
    return meter.usage();
  }

  /** The generated text, capped; "" for a body read whole that had a usage. */
  @Override
  public String generatedText() {
    return meter.text();
  }

  @Override
  public boolean generatedTextTruncated() {
    return meter.textTruncated();
  }

  private void walk(ByteBuf chunk) {
    try {
      if (walk == null) {
        walk = new JsonBodyWalk(walker);
      }
      int rootEnd = walk.feed(chunk);
      if (walk.rootNotObject()) {
        malformed = true; // the body's value is not an object
      }
      if (walk.rootEnded()) {
        done = true; // the body's value is complete: nothing after it is read, only checked
        complete = true;
        if (rootEnd >= 0 && hasNonWhitespace(chunk, rootEnd)) {
          malformed = true; // something after the body's object
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("response body is not well-formed JSON; usage not read further: {}", e.toString());
      done = true;
      malformed = true;
    }
    meter.report(walker.usage());
    if (done) {
      closeWalk();
    }
  }

  private void closeWalk() {
    if (walk != null) {
      walk.close();
      walk = null;
    }
  }

  private static boolean hasNonWhitespace(ByteBuf chunk, int from) {
    return chunk.forEachByte(from, chunk.writerIndex() - from, WHITESPACE) >= 0;
  }
}
