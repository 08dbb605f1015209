package dev.llmgw.core.usage;

import io.netty.buffer.ByteBuf;
import java.util.List;

/** The {@link UsageTap} that reads nothing: every chunk is forwarded as it is. */
final class PassThroughTap implements UsageTap {
  private boolean closed;

  @Override
  public void onChunk(ByteBuf chunk, List<ByteBuf> out) {
    if (closed) {
      chunk.release();
      return;
    }
    out.add(chunk);
  }

  @Override
  public void onEnd(List<ByteBuf> out) {
    closed = true;
  }

  @Override
  public void release() {
    closed = true;
  }

  @Override
  public TokenUsage usage() {
    return null;
  }

  @Override
  public String generatedText() {
    return "";
  }

  @Override
  public boolean generatedTextTruncated() {
    return false;
  }
}
