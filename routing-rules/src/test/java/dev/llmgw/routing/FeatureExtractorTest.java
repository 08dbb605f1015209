package dev.llmgw.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** What the rules see of a request, for chat and legacy completions bodies. */
class FeatureExtractorTest {

  static JsonNode json(String s) throws Exception {
    return EvalSet.JSON.readTree(s);
  }

  static RequestFeatures of(String body) throws Exception {
    return FeatureExtractor.extract(json(body), null, null, null);
  }

  @Test
  void chatMessages() throws Exception {
    RequestFeatures f = of("""
        {"model":"auto","user":"u1","metadata":{"stakes":"high","n":3},
         "messages":[{"role":"system","content":"Be brief."},
                     {"role":"developer","content":[{"type":"text","text":"No jokes."}]},
                     {"role":"user","content":"first"},
                     {"role":"assistant","content":null,"tool_calls":[]},
                     {"role":"user","content":[{"type":"text","text":"look"},
                        {"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"here"}]}],
         "tools":[{"type":"function"}],"response_format":{"type":"json_schema"},
         "max_tokens":100,"temperature":0.3}""");
    assertThat(f.model()).isEqualTo("auto");
    assertThat(f.user()).isEqualTo("u1");
    assertThat(f.metadata("stakes")).isEqualTo("high");
    assertThat(f.metadata("n")).isEqualTo("3");
    assertThat(f.metadata("absent")).isNull();
    assertThat(f.messageCount()).isEqualTo(5);
    assertThat(f.lastUserMessage()).isEqualTo("look\nhere");
    assertThat(f.systemPrompt()).isEqualTo("Be brief.\nNo jokes.");
    assertThat(f.messageTexts()).containsExactly("Be brief.", "No jokes.", "first", "",
        "look\nhere");
    assertThat(f.tools()).isTrue();
    assertThat(f.jsonSchema()).isTrue();
    assertThat(f.images()).isTrue();
    assertThat(f.maxTokens()).isEqualTo(100);
    assertThat(f.temperature()).isEqualTo(0.3);
  }

  @Test
  void absentValues() throws Exception {
    RequestFeatures f = FeatureExtractor.extract(null, null, null, null);
    assertThat(f.model()).isNull();
    assertThat(f.user()).isNull();
    assertThat(f.metadata("x")).isNull();
    assertThat(f.header("x")).isNull();
    assertThat(f.messageCount()).isZero();
    assertThat(f.lastUserMessage()).isNull();
    assertThat(f.systemPrompt()).isEmpty();
    assertThat(f.tools()).isFalse();
    assertThat(f.jsonSchema()).isFalse();
    assertThat(f.images()).isFalse();
    assertThat(f.maxTokens()).isEqualTo(-1);
    assertThat(f.temperature()).isNaN();
    assertThat(f.promptTokens()).isZero();
    assertThat(f.apiKeyName()).isNull();
    assertThat(f.team()).isNull();
  }

  @Test
  void legacyCompletionsPromptIsOneUserMessage() throws Exception {
    assertThat(of("{\"prompt\":\"hello world\"}").lastUserMessage()).isEqualTo("hello world");
    RequestFeatures f = of("{\"prompt\":[\"a\",\"b\"],\"functions\":[{\"name\":\"f\"}]}");
    assertThat(f.lastUserMessage()).isEqualTo("a\nb");
    assertThat(f.messageCount()).isEqualTo(1);
    assertThat(f.tools()).isTrue();
    assertThat(of("{\"prompt\":[[1,2,3]]}").lastUserMessage()).isEmpty();
    assertThat(of("{\"prompt\":\"hello world\"}").promptTokens())
        .as("no chat framing for a legacy prompt").isEqualTo(2);
  }

  @Test
  void maxCompletionTokensWinsOverMaxTokens() throws Exception {
    assertThat(of("{\"max_tokens\":10,\"max_completion_tokens\":20}").maxTokens()).isEqualTo(20);
    assertThat(of("{\"max_tokens\":\"10\"}").maxTokens()).isEqualTo(-1);
  }

  @Test
  void promptTokensUseO200kBaseWithChatFraming() throws Exception {
    // "hello world" is 2 tokens in cl100k_base; 4 per message and 3 per request
    assertThat(of("{\"messages\":[{\"role\":\"user\",\"content\":\"hello world\"}]}")
        .promptTokens()).isEqualTo(2 + 4 + 3);
    // a special-token string is ordinary text, not an error
    assertThat(of("{\"prompt\":\"<|endoftext|>\"}").promptTokens()).isGreaterThan(1);
  }

  @Test
  void theUpperBoundNeverUndercountsTheEstimate() throws Exception {
    for (String text : List.of("", "hello", "naïve café", "日本語のテキスト", "🙂🙂 emoji", "a  b\n\tc")) {
      RequestFeatures f = of("{\"messages\":[{\"role\":\"user\",\"content\":"
          + EvalSet.JSON.writeValueAsString(text) + "}]}");
      long bound = f.promptTokensUpperBound();
      assertThat(f.promptTokens()).as(text).isLessThanOrEqualTo((int) bound);
    }
  }

  @Test
  void longPromptsAreEstimatedFromBoundedWork() throws Exception {
    String sentence = "The committee reviewed the quarterly figures and approved the budget. ";
    String text = sentence.repeat(TokenCount.EXACT_CHARS * 3 / sentence.length());
    RequestFeatures f = of("{\"prompt\":" + EvalSet.JSON.writeValueAsString(text) + "}");
    int exact = com.knuddels.jtokkit.Encodings.newDefaultEncodingRegistry()
        .getEncoding(com.knuddels.jtokkit.api.EncodingType.CL100K_BASE).countTokensOrdinary(text);
    assertThat(text.length()).isGreaterThan(TokenCount.EXACT_CHARS);
    assertThat((double) f.promptTokens()).isCloseTo(exact, org.assertj.core.data.Percentage
        .withPercentage(2));
  }

  @Test
  void headersAreLookedUpLazilyAndOnlyWhenARuleNeedsThem() throws Exception {
    List<String> asked = new ArrayList<>();
    Function<String, String> headers = name -> {
      asked.add(name);
      return name.equals("x-stakes") ? "high" : null;
    };
    RoutingPolicy p = RoutingYamlReader.policy("""
        defaultTier: t
        tiers: {t: {targets: [local]}, h: {targets: [gpt-4o]}}
        rules:
          - {name: tools, tier: t, when: {tools: true}}
          - {name: stakes, tier: h, when: {header: {name: X-Stakes, equals: high}}}
          - {name: never, tier: t, when: {header: {name: x-never, present: true}}}
        """);
    RequestFeatures f = FeatureExtractor.extract(json("{\"tools\":[{}]}"), headers, null, null);
    assertThat(p.decide(f).rule()).isEqualTo("tools");
    assertThat(asked).isEmpty();
    f = FeatureExtractor.extract(json("{}"), headers, null, null);
    assertThat(p.decide(f).rule()).isEqualTo("stakes");
    assertThat(asked).containsExactly("x-stakes");
  }
}
