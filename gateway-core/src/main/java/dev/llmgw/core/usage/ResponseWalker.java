package dev.llmgw.core.usage;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * Follows the token stream of OpenAI response values (a chat/completions/embeddings body, or one
 * streaming chunk) and keeps only what usage accounting needs: the top-level {@code usage} object,
 * whether the top-level {@code choices} array is empty, and the generated text (into a
 * {@link UsageMeter}). Everything else is
 * skipped by counting nesting, so it works token by token with a non-blocking parser (no
 * {@code skipChildren()}, which would need the whole subtree at hand).
 *
 * <p>Paths read (all others are skipped, so a {@code usage} key nested anywhere else is ignored):
 * <pre>
 *   usage.{prompt_tokens, completion_tokens, total_tokens, prompt_cache_hit_tokens}
 *   usage.prompt_tokens_details.cached_tokens
 *   choices[*].text                                         (legacy completions)
 *   choices[*].{delta|message}.{content|reasoning_content}  (strings only)
 *   choices[*].{delta|message}.tool_calls[*].function.arguments
 * </pre>
 *
 * <p>Several root values may follow each other (one per SSE event). Not thread-safe.
 */
final class ResponseWalker {
  /** The factory of every parser whose tokens come here (one table of canonical field names). */
  static final JsonFactory JSON = JsonFactory.builder().build();

  private static final byte ROOT = 1;
  private static final byte USAGE = 2;
  private static final byte USAGE_DETAILS = 3;
  private static final byte CHOICES = 4;
  private static final byte CHOICE = 5;
  private static final byte MESSAGE = 6;
  private static final byte TOOL_CALLS = 7;
  private static final byte TOOL_CALL = 8;
  private static final byte FUNCTION = 9;
  private static final byte SKIP = 0;

  // interesting containers only: their nesting is fixed by the paths above, so 8 levels suffice
  private final byte[] stack = new byte[8];
  private int depth;
  private int skipNesting;
  private String field;

  private int rootsEnded;
  private boolean inRoot;

  // the current root value
  private long prompt;
  private long completion;
  private long total;
  private long cached;
  private long cacheHit;
  private TokenUsage usage;
  private boolean choicesSeen;
  private int choicesCount;

  private final UsageMeter meter;
  private boolean captureText = true;

  /** @param meter where the generated text goes */
  ResponseWalker(UsageMeter meter) {
    this.meter = meter;
  }

  /** Feeds one token; {@code p} is positioned on it. */
  void token(JsonToken t, JsonParser p) throws IOException {
    if (skipNesting > 0) {
      if (t.isStructStart()) {
        skipNesting++;
      } else if (t.isStructEnd() && --skipNesting == 0 && depth == 0) {
        endRoot(); // a root value that was not an object
      }
      return;
    }
    if (t == JsonToken.FIELD_NAME) {
      field = p.currentName();
      return;
    }
    if (t.isStructEnd()) {
      byte kind = stack[--depth];
      if (kind == USAGE) {
        usage = usageOrNull();
      }
      field = null;
      if (depth == 0) {
        endRoot();
      }
      return;
    }
    value(t, p);
  }

  private void value(JsonToken t, JsonParser p) throws IOException {
    boolean start = t.isStructStart();
    if (depth == 0) {
      beginRoot();
      if (t == JsonToken.START_OBJECT) {
        stack[depth++] = ROOT;
      } else if (start) {
        skipNesting = 1;
      } else {
        endRoot();
      }
      return;
    }
    byte child = SKIP;
    String f = field;
    switch (stack[depth - 1]) {
      case ROOT -> {
        if ("usage".equals(f) && t == JsonToken.START_OBJECT) {
          child = USAGE;
          prompt = completion = total = cached = cacheHit = -1;
        } else if ("choices".equals(f) && t == JsonToken.START_ARRAY) {
          child = CHOICES;
          choicesSeen = true;
        }
      }
      case USAGE -> {
        if ("prompt_tokens".equals(f)) {
          prompt = count(t, p);
        } else if ("completion_tokens".equals(f)) {
          completion = count(t, p);
        } else if ("total_tokens".equals(f)) {
          total = count(t, p);
        } else if ("prompt_cache_hit_tokens".equals(f)) {
          cacheHit = count(t, p); // DeepSeek's name for cached input
        } else if ("prompt_tokens_details".equals(f) && t == JsonToken.START_OBJECT) {
          child = USAGE_DETAILS;
        }
      }
      case USAGE_DETAILS -> {
        if ("cached_tokens".equals(f)) {
          cached = count(t, p);
        }
      }
      case CHOICES -> {
        choicesCount++;
        if (t == JsonToken.START_OBJECT) {
          child = CHOICE;
        }
      }
      case CHOICE -> {
        if (("delta".equals(f) || "message".equals(f)) && t == JsonToken.START_OBJECT) {
          child = MESSAGE;
        } else if ("text".equals(f) && t == JsonToken.VALUE_STRING) {
          capture(p);
        }
      }
      case MESSAGE -> {
        if (("content".equals(f) || "reasoning_content".equals(f)) && t == JsonToken.VALUE_STRING) {
          capture(p);
        } else if ("tool_calls".equals(f) && t == JsonToken.START_ARRAY) {
          child = TOOL_CALLS;
        }
      }
      case TOOL_CALLS -> {
        if (t == JsonToken.START_OBJECT) {
          child = TOOL_CALL;
        }
      }
      case TOOL_CALL -> {
        if ("function".equals(f) && t == JsonToken.START_OBJECT) {
          child = FUNCTION;
        }
      }
      case FUNCTION -> {
        if ("arguments".equals(f) && t == JsonToken.VALUE_STRING) {
          capture(p);
        }
      }
      default -> { }
    }
    field = null;
    if (start) {
      if (child == SKIP) {
        skipNesting = 1;
      } else {
        stack[depth++] = child;
      }
    }
  }

  private void beginRoot() {
    inRoot = true;
    usage = null;
    choicesSeen = false;
    choicesCount = 0;
    field = null;
  }

  private void endRoot() {
    inRoot = false;
    rootsEnded++;
  }

  /** A non-negative integral count, or -1 (absent, null, negative, fractional or out of range). */
  private static long count(JsonToken t, JsonParser p) throws IOException {
    if (t == JsonToken.VALUE_NUMBER_INT) {
      JsonParser.NumberType nt = p.getNumberType();
      if (nt == JsonParser.NumberType.INT || nt == JsonParser.NumberType.LONG) {
        long v = p.getLongValue();
        return v >= 0 ? v : -1;
      }
    } else if (t == JsonToken.VALUE_NUMBER_FLOAT) {
      double d = p.getDoubleValue();
      if (d >= 0 && d <= Long.MAX_VALUE && d == Math.rint(d)) {
        return (long) d;
      }
    }
    return -1;
  }

  /** The usage object just closed, or null when it has no count at all. */
  private TokenUsage usageOrNull() {
    long pr = prompt;
    long co = completion;
    if (pr < 0 && co < 0) {
      if (total < 0) {
        return null;
      }
      pr = total; // only a total: all of it is input, as for embeddings
      co = 0;
    } else if (pr < 0) {
      pr = total >= 0 ? Math.max(0, total - co) : 0;
    } else if (co < 0) {
      co = total >= 0 ? Math.max(0, total - pr) : 0; // embeddings: total == prompt
    }
    long ca = cached >= 0 ? cached : Math.max(cacheHit, 0);
    return new TokenUsage(pr, co, ca, false);
  }

  private void capture(JsonParser p) throws IOException {
    if (captureText) {
      int len = p.getTextLength();
      if (len == 0) {
        return;
      }
      if (meter.textFull()) {
        meter.markTruncated(); // the chars are not even asked for (a long string may be copied to give them)
      } else {
        meter.appendText(p.getTextCharacters(), p.getTextOffset(), len);
      }
    }
  }

  /** Forgets any half-read value (after a parse error), keeping results of completed ones. */
  void resetStructure() {
    depth = 0;
    skipNesting = 0;
    field = null;
    inRoot = false;
  }

  int rootsEnded() {
    return rootsEnded;
  }

  /** Whether a root value has started and not ended. */
  boolean inRoot() {
    return inRoot;
  }

  /** The current (or last) root value's top-level {@code usage}, once its object closed; else null. */
  TokenUsage usage() {
    return usage;
  }

  /** Whether the current (or last) root value's {@code choices} is an array with no element. */
  boolean choicesEmptyArray() {
    return choicesSeen && choicesCount == 0;
  }

  /** Whether string values on the text paths go to the meter (off while only the usage is wanted). */
  void captureText(boolean on) {
    captureText = on;
  }
}
