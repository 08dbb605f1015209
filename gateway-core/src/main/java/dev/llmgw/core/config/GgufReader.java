package dev.llmgw.core.config;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Little-endian reads of a GGUF file's header through a 64 KiB window: numbers, strings (capped), and
 * typed metadata values; a read past the end is an {@link EOFException}. Used by {@link GgufFile}.
 */
final class GgufReader {
  private static final int MAX_STRING = 64 << 20;

  private final FileChannel ch;
  private final long size;
  private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
  private long bufStart; // file offset of buf's position 0

  GgufReader(FileChannel ch, long size) {
    this.ch = ch;
    this.size = size;
    buf.limit(0);
  }

  Object value(int type, String key) throws IOException, GgufFile.GgufException {
    switch (type) {
      case 0, 1 -> {
        return (long) (type == 0 ? Byte.toUnsignedInt(i8()) : i8());
      }
      case 2, 3 -> {
        short s = i16();
        return (long) (type == 2 ? Short.toUnsignedInt(s) : s);
      }
      case 4 -> {
        return Integer.toUnsignedLong(i32());
      }
      case 5 -> {
        return (long) i32();
      }
      case 6 -> {
        return (double) Float.intBitsToFloat(i32());
      }
      case 7 -> {
        return i8() != 0;
      }
      case 8 -> {
        return string(key);
      }
      case 9 -> {
        int elementType = i32();
        long n = u64(key + " length");
        if (n > size - position()) {
          throw new GgufFile.GgufException("truncated or malformed header: " + key + " has " + n + " elements");
        }
        for (long i = 0; i < n; i++) {
          value(elementType, key);
        }
        return null; // arrays other than the vocabulary are not needed
      }
      case 10, 11 -> {
        return u64Raw();
      }
      case 12 -> {
        return Double.longBitsToDouble(u64Raw());
      }
      default -> throw new GgufFile.GgufException("malformed header: " + key + " has value type " + type);
    }
  }

  String string(String what) throws IOException, GgufFile.GgufException {
    long n = u64(what + " length");
    if (n > MAX_STRING || n > size - position()) {
      throw new GgufFile.GgufException("truncated or malformed header: a " + what + " of " + n + " bytes at byte "
          + position() + " of " + size);
    }
    byte[] b = new byte[(int) n];
    int off = 0;
    while (off < b.length) {
      ensure(1);
      int k = Math.min(buf.remaining(), b.length - off);
      buf.get(b, off, k);
      off += k;
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
          .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(ByteBuffer.wrap(b)).toString();
    } catch (CharacterCodingException e) {
      throw new GgufFile.GgufException("malformed header: a " + what + " is not UTF-8");
    }
  }

  long u64(String what) throws IOException, GgufFile.GgufException {
    long v = u64Raw();
    if (v < 0) {
      throw new GgufFile.GgufException("malformed header: " + what + " " + Long.toUnsignedString(v));
    }
    return v;
  }

  long u64Raw() throws IOException {
    ensure(8);
    return buf.getLong();
  }

  int i32() throws IOException {
    ensure(4);
    return buf.getInt();
  }

  short i16() throws IOException {
    ensure(2);
    return buf.getShort();
  }

  byte i8() throws IOException {
    ensure(1);
    return buf.get();
  }

  long position() {
    return bufStart + buf.position();
  }

  void ensure(int n) throws IOException {
    if (buf.remaining() >= n) {
      return;
    }
    bufStart += buf.position();
    buf.compact();
    while (buf.position() < n) {
      int r = ch.read(buf, bufStart + buf.position());
      if (r < 0) {
        throw new EOFException();
      }
    }
    buf.flip();
  }
}
