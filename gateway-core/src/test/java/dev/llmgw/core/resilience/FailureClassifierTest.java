package dev.llmgw.core.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.core.resilience.FailureClassifier.Failure;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.DecoderException;
import java.net.ConnectException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The failure table: what each backend answer or transport failure is, and what the client would get. */
class FailureClassifierTest {

  @ParameterizedTest(name = "{0} code={1} type={2} → {4} ({5})")
  @CsvSource(nullValues = "-", value = {
      "429, -,                       requests,                  -,                              RATE_LIMITED,    429",
      "429, rate_limit_exceeded,     -,                         -,                              RATE_LIMITED,    429",
      "429, insufficient_quota,      -,                         You exceeded your quota,        QUOTA_EXHAUSTED, 429",
      "401, invalid_api_key,         -,                         Incorrect API key sk-xx***,     PROVIDER_AUTH,   502",
      "403, -,                       -,                         forbidden,                      PROVIDER_AUTH,   502",
      "400, -,                       invalid_request_error,     bad temperature,                CALLER_FAULT,    400",
      "422, -,                       -,                         unprocessable,                  CALLER_FAULT,    422",
      "413, -,                       -,                         too large,                      CALLER_FAULT,    413",
      "400, context_length_exceeded, invalid_request_error,     too long,                       CONTEXT_LENGTH,  400",
      "400, -,                       exceed_context_size_error, exceeds the available context size, CONTEXT_LENGTH, 400",
      "400, -,                       -,                         This model's maximum context length is 8192 tokens, CONTEXT_LENGTH, 400",
      "404, model_not_found,         -,                         no such model,                  MALFORMED_RESPONSE, 502",
      "500, -,                       server_error,              oops,                           OVERLOADED,      502",
      "503, -,                       -,                         -,                              OVERLOADED,      502",
      "302, -,                       -,                         -,                              MALFORMED_RESPONSE, 502",
  })
  void backendStatuses(int status, String code, String type, String message, FailureClass expected, int clientStatus) {
    Failure f = FailureClassifier.ofStatus("b", status, code, type, null, message);
    assertThat(f.failureClass()).isEqualTo(expected);
    assertThat(f.clientError().status()).isEqualTo(clientStatus);
  }

  @Test
  void providerAuthNeverEchoesTheProviderMessage() {
    Failure f = FailureClassifier.ofStatus("openai", 401, "invalid_api_key", null, null,
        "Incorrect API key provided: sk-proj-abc***xyz");
    assertThat(f.clientError().message()).doesNotContain("sk-").contains("openai");
    assertThat(f.failureClass().misconfiguration()).isTrue();
  }

  @Test
  void callerFaultKeepsTheBackendsParamAndNeverCountsAgainstIt() {
    Failure f = FailureClassifier.ofStatus("b", 400, "invalid_value", "invalid_request_error", "temperature", "bad");
    assertThat(f.clientError().param()).isEqualTo("temperature");
    assertThat(f.failureClass().countsAgainstBackend()).isFalse();
    assertThat(f.failureClass().fallback()).isFalse();
    assertThat(f.failureClass().retryable()).isFalse();
  }

  @Test
  void transportFailures() {
    assertThat(FailureClassifier.ofConnect("b", new ConnectTimeoutException("t")).failureClass())
        .isEqualTo(FailureClass.CONNECT_TIMEOUT);
    assertThat(FailureClassifier.ofConnect("b", new TimeoutException("acquire")).clientError().status()).isEqualTo(504);
    assertThat(FailureClassifier.ofConnect("b", new ConnectException("refused")).failureClass())
        .isEqualTo(FailureClass.CONNECT_FAILURE);
    assertThat(FailureClassifier.ofIo("b", new SSLHandshakeException("x"), false).clientError().message())
        .contains("TLS");
    assertThat(FailureClassifier.ofIo("b", new DecoderException("bad chunk"), true).failureClass())
        .isEqualTo(FailureClass.MALFORMED_RESPONSE);
    assertThat(FailureClassifier.ofClosed("b", false).failureClass()).isEqualTo(FailureClass.CONNECT_FAILURE);
    assertThat(FailureClassifier.ofClosed("b", true).failureClass()).isEqualTo(FailureClass.MALFORMED_RESPONSE);
    assertThat(FailureClassifier.ofTimeout("b", FailureClass.TTFB_TIMEOUT).clientError().status()).isEqualTo(504);
  }

  @Test
  void slowFailuresAreNotRetriedButFallBack() {
    for (FailureClass c : new FailureClass[] {FailureClass.TTFB_TIMEOUT, FailureClass.IDLE_TIMEOUT,
        FailureClass.TOTAL_TIMEOUT}) {
      assertThat(c.retryable()).as(c.name()).isFalse();
      assertThat(c.fallback()).as(c.name()).isTrue();
      assertThat(c.countsAgainstBackend()).as(c.name()).isTrue();
    }
    assertThat(FailureClass.RATE_LIMITED.countsAgainstBackend()).isFalse();
  }
}
