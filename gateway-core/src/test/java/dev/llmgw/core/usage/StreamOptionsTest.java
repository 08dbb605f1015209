package dev.llmgw.core.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class StreamOptionsTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static ObjectNode json(String s) {
    try {
      return (ObjectNode) MAPPER.readTree(s);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }

  @Test
  void withUsageRequestedAddsTheOptionToACopy() {
    String original = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":1}";
    ObjectNode request = json(original);
    ObjectNode asked = StreamOptions.withUsageRequested(request);
    assertThat(asked.toString()).isEqualTo("{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\","
        + "\"content\":\"hi\"}],\"n\":1,\"stream_options\":{\"include_usage\":true}}");
    assertThat(request.toString()).isEqualTo(original);
    assertThat(asked).isNotSameAs(request);
    assertThat(asked.get("messages")).as("a shallow copy").isSameAs(request.get("messages"));
    assertThat(asked.at("/stream_options/include_usage").booleanValue()).isTrue();
    assertThat(request.has("stream_options")).isFalse();
  }

  @Test
  void otherStreamOptionsAreKeptInPlace() {
    String original = "{\"stream\":true,\"stream_options\":{\"include_usage\":false,\"continuous_usage_stats\":true},"
        + "\"model\":\"m\"}";
    ObjectNode request = json(original);
    ObjectNode asked = StreamOptions.withUsageRequested(request);
    assertThat(asked.toString()).isEqualTo("{\"stream\":true,\"stream_options\":{\"include_usage\":true,"
        + "\"continuous_usage_stats\":true},\"model\":\"m\"}");
    assertThat(request.toString()).isEqualTo(original);
    assertThat(asked.get("stream_options")).isNotSameAs(request.get("stream_options"));
  }

  @Test
  void aNonStreamingRequestGetsNoStreamOptions() {
    for (String original : new String[] {"{\"model\":\"m\"}", "{\"model\":\"m\",\"stream\":false}",
        "{\"model\":\"m\",\"stream\":\"true\"}"}) {
      ObjectNode request = json(original);
      ObjectNode copy = StreamOptions.withUsageRequested(request);
      assertThat(copy.toString()).isEqualTo(original);
      assertThat(copy).isNotSameAs(request);
    }
  }

  @Test
  void aStreamOptionsValueThatIsNotAnObjectIsReplaced() {
    ObjectNode request = json("{\"stream\":true,\"stream_options\":null}");
    assertThat(StreamOptions.withUsageRequested(request).toString())
        .isEqualTo("{\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
  }

  @Test
  void tokenUsage() {
    TokenUsage u = new TokenUsage(100, 20, 60, true);
    assertThat(u.total()).isEqualTo(120);
    assertThat(u.estimated()).isTrue();
    assertThatThrownBy(() -> new TokenUsage(-1, 0, 0, false)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new TokenUsage(0, 0, -1, false)).isInstanceOf(IllegalArgumentException.class);
  }
}
