package dev.llmgw.routing;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;

/**
 * The tokenizers' vocabularies, each read once per process on first use — about half a second of
 * one core, which on an event loop stalls every connection on it: a server calls {@link #warmUp()}
 * at start-up, off the event loops. {@link #CL100K} (GPT-4's, 2.5 times faster in jtokkit) counts
 * prompt tokens for the routing rules; {@link #O200K} (GPT-4o's) estimates usage a backend did not
 * report.
 */
public enum Vocabulary {
  CL100K(EncodingType.CL100K_BASE),
  O200K(EncodingType.O200K_BASE);

  private final EncodingType type;
  private volatile Encoding encoding;

  Vocabulary(EncodingType type) {
    this.type = type;
  }

  /** The encoding, read now if it was not yet. */
  public Encoding encoding() {
    Encoding e = encoding;
    if (e == null) {
      synchronized (this) {
        e = encoding;
        if (e == null) {
          encoding = e = Encodings.newLazyEncodingRegistry().getEncoding(type);
        }
      }
    }
    return e;
  }

  /** Whether this vocabulary is in memory ({@link #warmUp()} or a first use). */
  public boolean loaded() {
    return encoding != null;
  }

  /** Reads every vocabulary and runs its encoder once (blocking: call at start-up, off the event loops). */
  public static void warmUp() {
    for (Vocabulary v : values()) {
      v.encoding().countTokensOrdinary("warm up");
    }
  }
}
