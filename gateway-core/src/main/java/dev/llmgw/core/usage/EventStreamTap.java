package dev.llmgw.core.usage;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * The {@link UsageTap} of a {@code text/event-stream} response: an {@link SseFramer} feeding an
 * {@link SseEventReader} meters the stream; with a {@link UsageEventStripper} the usage-only event is
 * also removed from what is forwarded, otherwise each chunk is forwarded itself.
 *
 * <p>Allocation per chunk in the steady state: none for a chunk forwarded itself — its lines are
 * copied into the framer's reused array and parsed, when worth it, by a reused parser. A parsed usage
 * yields one {@link TokenUsage}; held text lines go to a recycled 8 KiB array (given back at
 * {@link #release}; a stream holding more moves to an array of its own, up to
 * {@link SseEventReader#HOLD_CAP}); a stripped or cut chunk costs a retained slice per forwarded run
 * (pooled), and only an event spanning three or more chunks is copied. {@code UsageTapAllocationTest}
 * measures it. Not thread-safe.
 */
final class EventStreamTap implements UsageTap {
  private final SseEventReader reader = new SseEventReader();
  private final SseFramer framer;
  private final UsageEventStripper stripper; // null: nothing is removed
  private boolean ended;
  private boolean released;

  EventStreamTap(boolean stripUsageOnlyEvent, int maxEventBytes) {
    framer = new SseFramer(reader, maxEventBytes);
    stripper = stripUsageOnlyEvent ? new UsageEventStripper(framer, maxEventBytes) : null;
  }

  @Override
  public void onChunk(ByteBuf chunk, List<ByteBuf> out) {
    if (released || ended) {
      chunk.release();
      return;
    }
    if (stripper != null && !framer.failed()) {
      stripper.onChunk(chunk, out);
      return;
    }
    out.add(chunk);
    for (int pos = chunk.readerIndex(); (pos = framer.nextEventEnd(chunk, pos)) >= 0; ) {
      framer.endEvent();
    }
  }

  @Override
  public void onEnd(List<ByteBuf> out) {
    if (released || ended) {
      return;
    }
    ended = true;
    framer.finish();
    if (stripper != null) {
      stripper.finish(out);
    }
    reader.close();
  }

  @Override
  public void release() {
    if (released) {
      return;
    }
    released = true;
    if (stripper != null) {
      stripper.release();
    }
    reader.release();
    framer.release();
  }

  @Override
  public TokenUsage usage() {
    return reader.usage();
  }

  @Override
  public String generatedText() {
    return reader.generatedText();
  }

  @Override
  public boolean generatedTextTruncated() {
    return reader.generatedTextTruncated();
  }

  @Override
  public boolean sawDone() {
    return reader.sawDone();
  }
}
