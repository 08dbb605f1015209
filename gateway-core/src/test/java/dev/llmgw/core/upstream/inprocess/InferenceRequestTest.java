package dev.llmgw.core.upstream.inprocess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.upstream.inprocess.InferenceEngine.Message;
import org.junit.jupiter.api.Test;

/** How the in-process backend reads a request body, and what it refuses (400, with the param at fault). */
class InferenceRequestTest {
  private static InferenceRequest parse(boolean chat, String json) throws Exception {
    return InferenceRequest.parse(chat, RequestParser.JSON.readTree(json));
  }

  private static InferenceRequest.Refused refused(boolean chat, String json) {
    InferenceRequest.Refused r = catchThrowableOfType(InferenceRequest.Refused.class, () -> parse(chat, json));
    assertThat(r).as("refused: %s", json).isNotNull();
    assertThat(r.error().status()).isEqualTo(400);
    return r;
  }

  @Test
  void aChatWithPartsOptionsAndExtensions() throws Exception {
    InferenceRequest r = parse(true, "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"S\"},"
        + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]},"
        + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[]}],\"max_tokens\":5,\"max_completion_tokens\":7,"
        + "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"temperature\":0.2,\"top_p\":0.9,\"top_k\":40,"
        + "\"min_p\":0.05,\"seed\":-3,\"presence_penalty\":0.1,\"frequency_penalty\":0.2,\"repeat_penalty\":1.1,"
        + "\"ignore_eos\":true,\"stop\":[\"x\",\"\",\"y\"],\"tools\":[{\"type\":\"function\"}]}");

    assertThat(r.messages()).containsExactly(new Message("system", "S"), new Message("user", "ab"),
        new Message("assistant", ""));
    assertThat(r.maxTokens()).as("max_completion_tokens wins").isEqualTo(7);
    assertThat(r.stream()).isTrue();
    assertThat(r.includeUsage()).isTrue();
    assertThat(r).extracting(InferenceRequest::temperature, InferenceRequest::topP, InferenceRequest::topK,
        InferenceRequest::minP, InferenceRequest::seed, InferenceRequest::presencePenalty,
        InferenceRequest::frequencyPenalty, InferenceRequest::repeatPenalty, InferenceRequest::ignoreEos)
        .containsExactly(0.2f, 0.9f, 40, 0.05f, -3, 0.1f, 0.2f, 1.1f, true);
    assertThat(r.stop()).containsExactly("x", "y");
  }

  @Test
  void aCompletionTakesOnePrompt() throws Exception {
    assertThat(parse(false, "{\"prompt\":\"Once\",\"stop\":\"!\"}").prompt()).isEqualTo("Once");
    assertThat(parse(false, "{\"prompt\":[\"Once\"]}").prompt()).isEqualTo("Once");
    assertThat(parse(false, "{\"prompt\":\"x\",\"stop\":\"!\"}").stop()).containsExactly("!");
    assertThat(parse(false, "{\"prompt\":\"x\"}").maxTokens()).isNull();
    assertThat(refused(false, "{\"prompt\":[\"a\",\"b\"]}").error().param()).isEqualTo("prompt");
    assertThat(refused(false, "{\"prompt\":[1,2,3]}").error().param()).isEqualTo("prompt");
  }

  @Test
  void whatCannotBeServedIsTheCallersFault() {
    assertThat(refused(true, "{\"messages\":[]}").error().param()).isEqualTo("messages");
    assertThat(refused(true, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\"}]}]}")
        .error().param()).isEqualTo("messages[0].content");
    assertThat(refused(true, "{\"messages\":[{\"role\":\"user\",\"content\":5}]}").error().param())
        .isEqualTo("messages[0].content");
    assertThat(refused(true, "{\"n\":3,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").error().param())
        .isEqualTo("n");
    assertThat(refused(true, "{\"max_tokens\":0,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").error()
        .param()).isEqualTo("max_tokens");
    assertThat(refused(true, "{\"temperature\":\"hot\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")
        .error().param()).isEqualTo("temperature");
    assertThat(refused(false, "{\"prompt\":\"x\",\"stop\":[1]}").error().param()).isEqualTo("stop");
  }
}
