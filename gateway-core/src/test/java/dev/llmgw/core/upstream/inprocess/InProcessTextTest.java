package dev.llmgw.core.upstream.inprocess;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.core.ingress.RequestParser;
import dev.llmgw.core.upstream.inprocess.InferenceEngine.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The plain chat transcript, the token counting of streamed pieces, and the OpenAI wire shapes. */
class InProcessTextTest {

  @Test
  void aChatWithoutATemplateIsAPlainTranscript() {
    assertThat(ChatPrompts.plain(List.of(new Message("system", " Be brief. "), new Message("developer", "No lists."),
        new Message("user", "Hi"), new Message("assistant", "Hello!"), new Message("tool", "42"),
        new Message("user", "Story?"))))
        .isEqualTo("Be brief.\nNo lists.\n\nUser: Hi\nAssistant: Hello!\nTool: 42\nUser: Story?\nAssistant:");
    assertThat(ChatPrompts.plain(List.of(new Message("user", "Hi")))).isEqualTo("User: Hi\nAssistant:");
  }

  @Test
  void aCharacterSpelledInByteTokensCountsItsBytes() {
    Set<String> vocab = Set.of("a", " ", "é", "“");
    assertThat(LlamaEngine.tokens(vocab, " the")).isEqualTo(1);
    assertThat(LlamaEngine.tokens(vocab, "")).as("a special token: one, with no text").isEqualTo(1);
    assertThat(LlamaEngine.tokens(vocab, "é")).as("a token of the vocabulary").isEqualTo(1);
    assertThat(LlamaEngine.tokens(vocab, "ü")).as("two byte tokens, sent together").isEqualTo(2);
    assertThat(LlamaEngine.tokens(vocab, "€")).isEqualTo(3);
    assertThat(LlamaEngine.tokens(vocab, "🐶")).isEqualTo(4);
    assertThat(LlamaEngine.tokens(null, "🐶")).as("not SentencePiece: one per piece").isEqualTo(1);
  }

  private static JsonNode event(ByteBuf b) throws Exception {
    try {
      String s = b.toString(StandardCharsets.UTF_8);
      assertThat(s).startsWith("data: ").endsWith("\n\n");
      return RequestParser.JSON.readTree(s.substring(6));
    } finally {
      b.release();
    }
  }

  @Test
  void chunksAndBodiesHaveTheOpenAiShapes() throws Exception {
    var alloc = UnpooledByteBufAllocator.DEFAULT;
    OpenAiWire.Ids chat = new OpenAiWire.Ids("chatcmpl-1", 1700000000L, "stories", true);
    JsonNode role = event(OpenAiWire.chunk(alloc, chat, "", true, null));
    assertThat(role.get("object").asText()).isEqualTo("chat.completion.chunk");
    assertThat(role.at("/choices/0/delta/role").asText()).isEqualTo("assistant");
    assertThat(role.at("/choices/0/finish_reason").isNull()).isTrue();
    JsonNode piece = event(OpenAiWire.chunk(alloc, chat, "Once \"upon\"\n", false, null));
    assertThat(piece.at("/choices/0/delta/content").asText()).isEqualTo("Once \"upon\"\n");
    assertThat(piece.at("/choices/0/delta").has("role")).isFalse();
    JsonNode last = event(OpenAiWire.chunk(alloc, chat, "", false, "length"));
    assertThat(last.at("/choices/0/delta").isEmpty()).isTrue();
    assertThat(last.at("/choices/0/finish_reason").asText()).isEqualTo("length");
    JsonNode usage = event(OpenAiWire.usageChunk(alloc, chat, 5, 7));
    assertThat(usage.get("choices")).isEmpty();
    assertThat(usage.at("/usage/total_tokens").asInt()).isEqualTo(12);

    OpenAiWire.Ids text = new OpenAiWire.Ids("cmpl-1", 1700000000L, "stories", false);
    JsonNode c = event(OpenAiWire.chunk(alloc, text, "x", false, null));
    assertThat(c.get("object").asText()).isEqualTo("text_completion");
    assertThat(c.at("/choices/0/text").asText()).isEqualTo("x");

    ByteBuf body = OpenAiWire.body(alloc, text, "the end", "stop", 3, 2);
    JsonNode b = RequestParser.JSON.readTree(body.toString(StandardCharsets.UTF_8));
    body.release();
    assertThat(b.at("/choices/0/text").asText()).isEqualTo("the end");
    assertThat(b.at("/choices/0/logprobs").isNull()).isTrue();
    assertThat(b.at("/usage/completion_tokens").asInt()).isEqualTo(2);
    ByteBuf done = OpenAiWire.done(alloc);
    assertThat(done.toString(StandardCharsets.US_ASCII)).isEqualTo("data: [DONE]\n\n");
    done.release();
  }
}
