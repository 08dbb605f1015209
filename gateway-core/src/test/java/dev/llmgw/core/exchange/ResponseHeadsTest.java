package dev.llmgw.core.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The client's response head: an allow-list of the backend's headers, whatever their case. */
class ResponseHeadsTest {

  private static HttpResponse backend(String... nameValues) {
    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    for (int i = 0; i < nameValues.length; i += 2) {
      r.headers().add(nameValues[i], nameValues[i + 1]);
    }
    return r;
  }

  private static List<String> lines(HttpHeaders h) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, String> e : h) {
      out.add(e.getKey().toLowerCase(java.util.Locale.ROOT) + ": " + e.getValue());
    }
    out.sort(null);
    return out;
  }

  @Test
  void onlyTheAllowListTravelsFirstValueOnceAndRateLimitsAll() {
    HttpResponse in = backend(
        "Content-Type", "application/json", "Content-Length", "42", "Set-Cookie", "tracker=1",
        "Cache-Control", "no-store", "Connection", "keep-alive", "OpenAI-Version", "2020-10-01",
        "openai-version", "1999-01-01", "Openai-Processing-Ms", "17", "X-RateLimit-Limit-Requests", "100",
        "x-ratelimit-remaining-requests", "99", "x-ratelimit-remaining-requests", "98", "Server", "secret-box",
        "x-ratelimit", "no dash: not a rate-limit header");
    HttpResponse out = ResponseHeads.forClient(in, "rid-1", "remote", true, false);
    assertThat(out.status()).isEqualTo(HttpResponseStatus.OK);
    assertThat(lines(out.headers())).containsExactly(
        "cache-control: no-store",
        "content-length: 42",
        "content-type: application/json",
        "openai-processing-ms: 17",
        "openai-version: 2020-10-01",
        "x-gateway-backend: remote",
        "x-ratelimit-limit-requests: 100",
        "x-ratelimit-remaining-requests: 98",
        "x-ratelimit-remaining-requests: 99",
        "x-request-id: rid-1");
  }

  @Test
  void aChangingOrChunkedBodyIsSentChunkedAndCloseIsSaid() {
    HttpResponse in = backend("Content-Type", "text/event-stream", "Content-Length", "42");
    assertThat(ResponseHeads.forClient(in, "r", "b", true, true).headers().get("transfer-encoding"))
        .isEqualTo("chunked");
    HttpResponse chunked = backend("Transfer-Encoding", "chunked", "Content-Length", "42");
    HttpHeaders h = ResponseHeads.forClient(chunked, "r", "b", false, false).headers();
    assertThat(h.get("transfer-encoding")).isEqualTo("chunked");
    assertThat(h.contains("content-length")).isFalse();
    assertThat(h.get("connection")).isEqualTo("close");
  }

  @Test
  void contentTypesAreRecognisedWhateverTheirCase() {
    assertThat(ResponseHeads.isEventStream(backend("content-type", "Text/Event-Stream; charset=utf-8"))).isTrue();
    assertThat(ResponseHeads.isEventStream(backend("Content-Type", "text/event"))).isFalse();
    assertThat(ResponseHeads.isEventStream(backend())).isFalse();
    assertThat(ResponseHeads.isJson(backend("CONTENT-TYPE", "application/JSON"))).isTrue();
    assertThat(ResponseHeads.isJson(backend("Content-Type", "application/x-ndjson"))).isFalse();
  }
}
