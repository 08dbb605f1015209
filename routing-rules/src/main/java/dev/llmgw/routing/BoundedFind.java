package dev.llmgw.routing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@link Matcher#find()} with a bounded amount of work. The rules run on the event loop over texts as
 * long as the body cap (a mebibyte), and Java's regex engine backtracks: a pattern an operator writes in
 * good faith can be quadratic or worse on the wrong text ({@code (?:\D*\d+){3}} spent 0.8 s on 20 KB
 * without a digit). Java has no regex timeout, so the text is handed to the engine through a view that
 * counts the characters it reads and gives up past a budget proportional to the text: a linear pattern
 * reads each character a few times, a runaway one is stopped after a few milliseconds, and its rule
 * reads as "no match" (counted in {@link #abandoned()}, and said by {@code explain}).
 */
final class BoundedFind {
  /** Characters the engine may read per character of the text, beyond {@link #BASE_STEPS}. */
  static final int STEPS_PER_CHAR = 32;
  /** Reads allowed whatever the text's length (short texts with many alternatives). */
  static final int BASE_STEPS = 100_000;

  private static final java.util.concurrent.atomic.LongAdder ABANDONED = new java.util.concurrent.atomic.LongAdder();

  private BoundedFind() {}

  /** The budget was spent: the search was abandoned. */
  static final class Abandoned extends RuntimeException {
    private static final Abandoned INSTANCE = new Abandoned();

    private Abandoned() {
      super("regex budget spent", null, false, false);
    }
  }

  /** The first match of {@code regex} in {@code text}, or null when there is none or the budget ran out. */
  static Matcher find(Pattern regex, String text) {
    Matcher m = regex.matcher(new Counted(text, budget(text.length())));
    try {
      return m.find() ? m : null;
    } catch (Abandoned e) {
      ABANDONED.increment();
      return null;
    }
  }

  /** Whether the search for {@code regex} in {@code text} would be abandoned (for explain). */
  static boolean abandons(Pattern regex, String text) {
    try {
      regex.matcher(new Counted(text, budget(text.length()))).find();
      return false;
    } catch (Abandoned e) {
      return true;
    }
  }

  static long budget(int length) {
    return BASE_STEPS + (long) STEPS_PER_CHAR * length;
  }

  /** Searches abandoned since start, process-wide (a metric). */
  static long abandoned() {
    return ABANDONED.sum();
  }

  /**
   * The text as the engine sees it, every read counted against the budget. Subsequences (the engine
   * asks for them only to hand out a match's text) are plain strings.
   */
  static final class Counted implements CharSequence {
    private final String text;
    private long left;

    Counted(String text, long budget) {
      this.text = text;
      this.left = budget;
    }

    @Override
    public char charAt(int index) {
      if (--left < 0) {
        throw Abandoned.INSTANCE;
      }
      return text.charAt(index);
    }

    @Override
    public int length() {
      return text.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return text.substring(start, end);
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
