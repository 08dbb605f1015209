package dev.llmgw.core.usage;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class UsageMeterTest {

  private static void append(UsageMeter m, String s) {
    char[] c = ("<" + s + ">").toCharArray();
    m.appendText(c, 1, s.length());
  }

  @Test
  void theLastReportedUsageWinsAndNoneChangesNothing() {
    UsageMeter m = new UsageMeter();
    assertThat(m.usage()).isNull();
    m.report(new TokenUsage(1, 2, 0, false));
    m.report(null);
    assertThat(m.usage()).isEqualTo(new TokenUsage(1, 2, 0, false));
    m.report(new TokenUsage(1, 3, 0, false));
    assertThat(m.usage()).isEqualTo(new TokenUsage(1, 3, 0, false));
  }

  @Test
  void textIsKeptUpToTheCap() {
    UsageMeter m = new UsageMeter();
    assertThat(m.text()).isEmpty();
    append(m, "");
    assertThat(m.textFull()).isFalse();
    String piece = "x".repeat(1000);
    for (int i = 0; i < 65; i++) {
      append(m, piece);
    }
    assertThat(m.textTruncated()).isFalse();
    append(m, "abcdefghijklmnopqrstuvwxyz".repeat(40)); // 536 chars of room left
    assertThat(m.text()).hasSize(UsageMeter.TEXT_CAP).endsWith("abcdefghijklmnop");
    assertThat(m.textTruncated()).isTrue();
    assertThat(m.textFull()).isTrue();
    append(m, "more");
    assertThat(m.text()).hasSize(UsageMeter.TEXT_CAP);
  }

  @Test
  void theCapNeverSplitsASurrogatePair() {
    UsageMeter m = new UsageMeter();
    append(m, "p".repeat(UsageMeter.TEXT_CAP - 1));
    append(m, "\uD83D\uDE00");
    assertThat(m.text()).hasSize(UsageMeter.TEXT_CAP - 1).doesNotContain("\uD83D");
    assertThat(m.textTruncated()).isTrue();
    assertThat(m.textFull()).isTrue();
  }

  @Test
  void nothingIsAppendedOnceTextWasLeftOut() {
    // the pair did not fit and left one char of room: a later string must not fill it (the text stays a prefix)
    UsageMeter m = new UsageMeter();
    append(m, "p".repeat(UsageMeter.TEXT_CAP - 1));
    append(m, "\uD83D\uDE00");
    append(m, "more");
    assertThat(m.text()).isEqualTo("p".repeat(UsageMeter.TEXT_CAP - 1));
  }

  @Test
  void textSeenButNotKeptMarksItTruncated() {
    UsageMeter m = new UsageMeter();
    append(m, "a");
    m.markTruncated();
    assertThat(m.textFull()).isTrue();
    assertThat(m.textTruncated()).isTrue();
    assertThat(m.text()).isEqualTo("a");
  }
}
