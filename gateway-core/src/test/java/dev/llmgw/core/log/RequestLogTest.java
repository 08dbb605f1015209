package dev.llmgw.core.log;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RequestLogTest {

  private static String tenths(double v) {
    StringBuilder sb = new StringBuilder();
    RequestLog.appendTenths(sb, v);
    return sb.toString();
  }

  @Test
  void millisecondsAreWrittenWithOneDecimalWithoutScientificNotation() {
    assertThat(tenths(0.25)).isEqualTo("0.3");
    assertThat(tenths(0.04)).isEqualTo("0.0");
    assertThat(tenths(12.0)).isEqualTo("12.0");
    assertThat(tenths(1234.56)).isEqualTo("1234.6");
    assertThat(tenths(1.0e7)).isEqualTo("10000000.0");
    assertThat(tenths(-1.26)).isEqualTo("-1.3");
  }

  @Test
  void theLineEndsWithTheTimings() {
    RequestLogBuilder b = new RequestLogBuilder("rid-1", "POST", "/v1/chat/completions", null, RequestLogListener.NOOP);
    b.responded(200, 0);
    b.end(Outcome.SERVED);
    StringBuilder sb = new StringBuilder();
    b.log().appendTo(sb);
    assertThat(sb.toString()).startsWith("rid=rid-1 remote=null method=POST path=/v1/chat/completions status=200 outcome=ok")
        .containsPattern(" bytes_out=0 duration_ms=\\d+\\.\\d$");
  }
}
