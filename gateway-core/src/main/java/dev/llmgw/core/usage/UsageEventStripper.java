package dev.llmgw.core.usage;

import io.netty.buffer.ByteBuf;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes from a relayed event stream the events its {@link SseFramer}'s reader drops — the usage-only
 * event the gateway asked the backend for ({@code stream_options.include_usage}) on behalf of a client
 * that did not — and forwards everything else byte for byte, in order.
 *
 * <p><b>Buffers.</b> {@link #onChunk} takes ownership of its chunk; every buffer it or {@link #finish}
 * appends to {@code out} is the caller's. A chunk of whole events, none dropped, is forwarded itself.
 * Otherwise each forwarded run of events is a retained slice, and an incomplete trailing event is held
 * by keeping the chunk (its reader index moved past what was forwarded); only an event spanning three
 * or more chunks is copied, into one buffer from the chunk's allocator that grows as it is appended to.
 * What is held is the stripper's until forwarded or {@link #release()}d.
 *
 * <p>An event that grows past {@code maxEventBytes} without ending is forwarded as it comes, all of it
 * (an event that large is not the usage-only one); stripping goes on with the next event. If reading fails, the
 * rest of the stream is forwarded as it is. Not thread-safe.
 */
final class UsageEventStripper {
  private static final Logger LOG = LoggerFactory.getLogger(UsageEventStripper.class);

  private final SseFramer events;
  private final int maxEventBytes;
  private ByteBuf held; // the incomplete trailing event's bytes so far
  private boolean heldIsCopy;
  private boolean headForwarded; // the event being read went past the cap: its beginning was forwarded
  private boolean gaveUp;

  UsageEventStripper(SseFramer events, int maxEventBytes) {
    this.events = events;
    this.maxEventBytes = maxEventBytes;
  }

  /** Takes ownership of {@code chunk} and appends to {@code out}, in order, the buffers to forward. */
  void onChunk(ByteBuf chunk, List<ByteBuf> out) {
    int start = chunk.readerIndex();
    int end = chunk.writerIndex();
    if (start == end) {
      chunk.release();
      return;
    }
    int runStart = start; // first byte not yet forwarded nor dropped
    int eventStart = start; // first byte of the event being read
    for (int next; (next = events.nextEventEnd(chunk, eventStart)) >= 0; eventStart = next) {
      boolean drop = events.endEvent() && !headForwarded; // never half an event
      headForwarded = false;
      if (drop) {
        if (eventStart > runStart) {
          out.add(chunk.retainedSlice(runStart, eventStart - runStart));
        }
        releaseHeld(); // the dropped event's beginning
        runStart = next;
      } else if (held != null) {
        out.add(held); // this event's beginning, before any of chunk
        held = null;
      }
    }
    // if something is still held, no event ended in this chunk: runStart == eventStart == start
    int tail = end - eventStart;
    long heldBytes = held == null ? 0 : held.readableBytes();
    if (events.failed() || (tail > 0 && heldBytes + tail > maxEventBytes)) {
      if (!events.failed()) {
        giveUp(heldBytes + tail);
        headForwarded = true;
      }
      finish(out);
      forward(chunk, start, runStart, end, out);
      return;
    }
    if (runStart == start && eventStart == end) {
      out.add(chunk); // all of it, nothing dropped, nothing held: zero copy
      return;
    }
    if (eventStart > runStart) {
      out.add(chunk.retainedSlice(runStart, eventStart - runStart));
    }
    if (tail > 0) {
      hold(chunk, eventStart, end);
    } else {
      chunk.release();
    }
  }

  /** Forwards what is held (the stream ended: an incomplete final event goes as it is). */
  void finish(List<ByteBuf> out) {
    if (held != null) {
      out.add(held);
      held = null;
    }
  }

  /** Frees what is held. Idempotent. */
  void release() {
    releaseHeld();
  }

  private void releaseHeld() {
    if (held != null) {
      ByteBuf h = held;
      held = null;
      h.release();
    }
  }

  /** Forwards {@code chunk[from, end)} and gives up {@code chunk}. */
  private static void forward(ByteBuf chunk, int start, int from, int end, List<ByteBuf> out) {
    if (from == start) {
      out.add(chunk);
      return;
    }
    if (end > from) {
      out.add(chunk.retainedSlice(from, end - from));
    }
    chunk.release();
  }

  /** Keeps {@code chunk[from, to)} as (the rest of) the incomplete event; takes ownership of chunk. */
  private void hold(ByteBuf chunk, int from, int to) {
    if (held == null) {
      chunk.readerIndex(from);
      held = chunk;
      heldIsCopy = false;
      return;
    }
    int len = to - from;
    try {
      if (!heldIsCopy) {
        int have = held.readableBytes();
        ByteBuf copy = chunk.alloc().buffer(have + len); // grows (doubling) as later chunks are appended
        copy.writeBytes(held, held.readerIndex(), have);
        ByteBuf old = held;
        held = copy;
        heldIsCopy = true;
        old.release();
      }
      held.writeBytes(chunk, from, len);
    } finally {
      chunk.release();
    }
  }

  /** An event grew past the cap without ending: logged once a stream. */
  private void giveUp(long bytes) {
    if (!gaveUp) {
      gaveUp = true;
      LOG.debug("event stream: an event passed {} bytes without ending ({} so far); forwarded as it comes",
          maxEventBytes, bytes);
    }
  }
}
