package dev.llmgw.core.usage;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parses event data lines, each one JSON value, into a {@link ResponseWalker}: one Jackson non-blocking
 * parser fed straight from the line's array and reused from line to line (one root value per line); a
 * line that is not exactly one JSON value only costs a new parser. Not thread-safe.
 */
final class DataLineParser {
  private static final Logger LOG = LoggerFactory.getLogger(DataLineParser.class);

  private final ResponseWalker walker;
  private JsonParser parser;
  private ByteArrayFeeder feeder;

  DataLineParser(ResponseWalker walker) {
    this.walker = walker;
  }

  /**
   * Parses {@code a[from, to)}; true when it was exactly one JSON value (the walker then holds its
   * usage and whether its choices were empty), false otherwise (what the walker captured of it stays).
   */
  boolean parse(byte[] a, int from, int to) {
    int before = walker.rootsEnded();
    boolean clean;
    try {
      if (parser == null) {
        parser = ResponseWalker.JSON.createNonBlockingByteArrayParser();
        feeder = (ByteArrayFeeder) parser.getNonBlockingInputFeeder();
        walker.resetStructure();
      }
      feeder.feedInput(a, from, to);
      JsonToken t;
      while ((t = parser.nextToken()) != JsonToken.NOT_AVAILABLE && t != null) {
        walker.token(t, parser);
      }
      clean = walker.rootsEnded() == before + 1 && !walker.inRoot();
    } catch (IOException | RuntimeException e) {
      clean = false;
    }
    if (!clean) {
      LOG.debug("event stream: skipped a data line that is not one JSON value");
      close();
      walker.resetStructure();
    }
    return clean;
  }

  /** Lets the parser go (a later line gets a new one). */
  void close() {
    if (parser != null) {
      try {
        parser.close();
      } catch (IOException | RuntimeException ignored) {
        // nothing to do: the parser only returns its buffers
      }
      parser = null;
      feeder = null;
    }
  }
}
