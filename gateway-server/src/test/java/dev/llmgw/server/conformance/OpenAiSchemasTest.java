package dev.llmgw.server.conformance;

import static dev.llmgw.server.conformance.OpenAiSchemas.CHAT_COMPLETION_CHUNK;
import static dev.llmgw.server.conformance.OpenAiSchemas.CHAT_COMPLETION_RESPONSE;
import static dev.llmgw.server.conformance.OpenAiSchemas.COMPLETION_RESPONSE;
import static dev.llmgw.server.conformance.OpenAiSchemas.EMBEDDING_RESPONSE;
import static dev.llmgw.server.conformance.OpenAiSchemas.ERROR_RESPONSE;
import static dev.llmgw.server.conformance.OpenAiSchemas.LIST_MODELS_RESPONSE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

class OpenAiSchemasTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** A fixture from {@code src/test/resources/conformance/}. */
    static String fixture(String name) {
        try (InputStream in = OpenAiSchemasTest.class.getResourceAsStream("/conformance/" + name)) {
            assertThat(in).as("fixture %s", name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses a fixture, lets {@code edit} mutate it, and returns the result as JSON text. */
    static String mutate(String fixtureName, Consumer<ObjectNode> edit) {
        ObjectNode root = (ObjectNode) JSON.readTree(fixture(fixtureName));
        edit.accept(root);
        return JSON.writeValueAsString(root);
    }

    static ObjectNode firstChoice(ObjectNode root) {
        return (ObjectNode) root.get("choices").get(0);
    }

    // ------------------------------------------------------------------------------------------------ loading

    @Test
    void specIsLoadedOnceAndRewritten() {
        assertThat(OpenAiSchemas.specPath()).exists().hasFileName("openapi.json");
        assertThat(OpenAiSchemas.schemaNames()).contains(CHAT_COMPLETION_RESPONSE, CHAT_COMPLETION_CHUNK,
                COMPLETION_RESPONSE, EMBEDDING_RESPONSE, LIST_MODELS_RESPONSE, ERROR_RESPONSE).hasSizeGreaterThan(1000);
        // the spec's 111 `nullable: true` plus one `nullable: false` are all rewritten
        assertThat(OpenAiSchemas.nullableRewrites()).isGreaterThanOrEqualTo(111);
        assertThat(OpenAiSchemas.discriminatorsRemoved()).isGreaterThanOrEqualTo(100);
        long first = OpenAiSchemas.loadMillis();
        assertThat(first).isLessThan(15_000);
        assertThat(OpenAiSchemas.loadMillis()).isEqualTo(first); // same holder, not reloaded
        System.out.println("OpenAI spec load took " + first + " ms, " + OpenAiSchemas.nullableRewrites()
                + " nullable rewrites, " + OpenAiSchemas.discriminatorsRemoved() + " discriminators removed");
    }

    @Test
    void unknownSchemaNameIsAnIllegalArgument() {
        assertThatThrownBy(() -> OpenAiSchemas.errors("NoSuchSchema", "{}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NoSuchSchema");
        assertThatThrownBy(() -> OpenAiSchemas.assertSseStreamValid("NoSuchSchema", "data: [DONE]\n\n"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ------------------------------------------------------------------------------------------------ valid bodies

    @ParameterizedTest(name = "{0} is a valid {1}")
    @CsvSource({
        "chat-completion.json,            CreateChatCompletionResponse",
        "chat-completion-tool-calls.json, CreateChatCompletionResponse",
        "list-models.json,                ListModelsResponse",
        "embeddings.json,                 CreateEmbeddingResponse",
        "completion.json,                 CreateCompletionResponse",
        "error.json,                      ErrorResponse",
    })
    void realisticBodiesConform(String fixture, String schema) {
        assertThat(OpenAiSchemas.errors(schema, fixture(fixture))).isEmpty();
        OpenAiSchemas.assertValid(schema, fixture(fixture));
    }

    @Test
    void errorResponseFromTheBriefConforms() {
        OpenAiSchemas.assertValid(ERROR_RESPONSE,
                "{\"error\":{\"message\":\"..\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}");
        OpenAiSchemas.assertValid(ERROR_RESPONSE,
                "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"rate_limit_exceeded\","
                        + "\"param\":\"model\",\"code\":\"rate_limit_exceeded\"}}");
    }

    @Test
    void streamChunkWithNullFinishReasonConforms() {
        // finish_reason / logprobs / usage are `nullable: true` in the spec: only valid thanks to the rewrite
        String chunk = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,"
                + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},"
                + "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}";
        OpenAiSchemas.assertValid(CHAT_COMPLETION_CHUNK, chunk);
    }

    @Test
    void finalStreamChunkWithUsageConforms() {
        String chunk = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,"
                + "\"model\":\"gpt-4o-mini\",\"choices\":[],"
                + "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":12,\"total_tokens\":21}}";
        OpenAiSchemas.assertValid(CHAT_COMPLETION_CHUNK, chunk);
    }

    @Test
    void realisticSseStreamConforms() {
        String sse = fixture("chat-completion-stream.sse");
        assertThat(OpenAiSchemas.sseDataPayloads(sse)).hasSize(6).last().isEqualTo("[DONE]");
        assertThatCode(() -> OpenAiSchemas.assertSseStreamValid(CHAT_COMPLETION_CHUNK, sse)).doesNotThrowAnyException();
    }

    @Test
    void sseParsingHandlesCrLfCommentsEventFieldsAndMultiLineData() {
        String chunk = "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
                + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":null}]}";
        String body = ": keep-alive\r\n\r\n"
                + "event: message\r\nid: 1\r\ndata: " + chunk + "\r\n\r\n"
                + "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\r\n"
                + "data: \"created\":1,\"model\":\"m\",\"choices\":[]}\r\n\r\n"
                + "data:[DONE]\r\n\r\n";
        assertThat(OpenAiSchemas.sseDataPayloads(body)).hasSize(3)
                .satisfies(p -> assertThat(p.get(1)).contains("\n"));
        OpenAiSchemas.assertSseStreamValid(CHAT_COMPLETION_CHUNK, body);
    }

    // ------------------------------------------------------------------------------------------------ invalid bodies

    @Test
    void missingChoicesFails() {
        String json = mutate("chat-completion.json", r -> r.remove("choices"));
        assertThat(OpenAiSchemas.errors(CHAT_COMPLETION_RESPONSE, json))
                .isNotEmpty().anySatisfy(e -> assertThat(e).contains("choices").contains("required"));
        assertThatThrownBy(() -> OpenAiSchemas.assertValid(CHAT_COMPLETION_RESPONSE, json))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining(CHAT_COMPLETION_RESPONSE)
                .hasMessageContaining("choices")
                .hasMessageContaining("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"); // the JSON is echoed
    }

    @Test
    void wrongObjectValueFails() {
        // a stream chunk's object value in a non-streaming response, and vice versa
        assertThat(OpenAiSchemas.errors(CHAT_COMPLETION_RESPONSE,
                mutate("chat-completion.json", r -> r.put("object", "chat.completion.chunk"))))
                .isNotEmpty().anySatisfy(e -> assertThat(e).contains("/object"));
        assertThat(OpenAiSchemas.errors(CHAT_COMPLETION_CHUNK,
                "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[]}"))
                .isNotEmpty().anySatisfy(e -> assertThat(e).contains("/object"));
        assertThat(OpenAiSchemas.errors(LIST_MODELS_RESPONSE,
                mutate("list-models.json", r -> r.put("object", "models"))))
                .isNotEmpty();
        assertThat(OpenAiSchemas.errors(EMBEDDING_RESPONSE,
                mutate("embeddings.json", r -> ((ObjectNode) r.get("data").get(0)).put("object", "vector"))))
                .isNotEmpty().anySatisfy(e -> assertThat(e).contains("/data/0/object"));
        assertThat(OpenAiSchemas.errors(COMPLETION_RESPONSE,
                mutate("completion.json", r -> r.put("object", "chat.completion"))))
                .isNotEmpty();
    }

    @Test
    void wrongTypesFail() {
        assertThat(OpenAiSchemas.errors(CHAT_COMPLETION_RESPONSE,
                mutate("chat-completion.json", r -> r.put("created", "2025-03-10T00:00:00Z"))))
                .isNotEmpty().anySatisfy(e -> assertThat(e).contains("/created"));
        assertThat(OpenAiSchemas.errors(CHAT_COMPLETION_RESPONSE,
                mutate("chat-completion.json", r -> firstChoice(r).put("index", "0"))))
                .isNotEmpty().anySatisfy(e -> assertThat(e).contains("/choices/0/index"));
        assertThat(OpenAiSchemas.errors(CHAT_COMPLETION_RESPONSE,
                mutate("chat-completion.json", r -> ((ObjectNode) r.get("usage")).put("total_tokens", 29.5))))
                .isNotEmpty().anySatisfy(e -> assertThat(e).contains("/usage/total_tokens"));
        assertThat(OpenAiSchemas.errors(CHAT_COMPLETION_RESPONSE,
                mutate("chat-completion.json", r -> r.putObject("choices"))))
                .isNotEmpty();
        assertThat(OpenAiSchemas.errors(EMBEDDING_RESPONSE,
                mutate("embeddings.json", r -> ((ObjectNode) r.get("data").get(0)).put("embedding", "AAAA"))))
                .isNotEmpty();
        assertThat(OpenAiSchemas.errors(ERROR_RESPONSE,
                "{\"error\":{\"message\":\"x\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":429}}"))
                .isNotEmpty().anySatisfy(e -> assertThat(e).contains("/error/code"));
        assertThat(OpenAiSchemas.errors(ERROR_RESPONSE, "{\"error\":\"Something went wrong\"}")).isNotEmpty();
    }

    @Test
    void badEnumAndNonNullableNullsFail() {
        assertThat(OpenAiSchemas.errors(CHAT_COMPLETION_RESPONSE,
                mutate("chat-completion.json", r -> firstChoice(r).put("finish_reason", "eos"))))
                .isNotEmpty();
        // finish_reason is NOT nullable in a non-streaming response (only in chunks)
        assertThat(OpenAiSchemas.errors(CHAT_COMPLETION_RESPONSE,
                mutate("chat-completion.json", r -> firstChoice(r).putNull("finish_reason"))))
                .isNotEmpty();
        assertThat(OpenAiSchemas.errors(CHAT_COMPLETION_CHUNK,
                "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
                        + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"eos\"}]}"))
                .isNotEmpty();
        assertThat(OpenAiSchemas.errors(CHAT_COMPLETION_RESPONSE,
                mutate("chat-completion.json", r -> r.putNull("model"))))
                .isNotEmpty();
    }

    @Test
    void missingRequiredFieldsFail() {
        assertThat(OpenAiSchemas.errors(ERROR_RESPONSE,
                "{\"error\":{\"message\":\"x\",\"type\":\"invalid_request_error\"}}"))
                .hasSize(2).allSatisfy(e -> assertThat(e).contains("required"));
        assertThat(OpenAiSchemas.errors(COMPLETION_RESPONSE, mutate("completion.json", r -> r.remove("id"))))
                .isNotEmpty();
        assertThat(OpenAiSchemas.errors(EMBEDDING_RESPONSE, mutate("embeddings.json", r -> r.remove("usage"))))
                .isNotEmpty();
        assertThat(OpenAiSchemas.errors(LIST_MODELS_RESPONSE,
                mutate("list-models.json", r -> ((ObjectNode) r.get("data").get(0)).remove("owned_by"))))
                .isNotEmpty().anySatisfy(e -> assertThat(e).contains("owned_by"));
    }

    @Test
    void toolCallOfUnknownTypeFails() {
        String json = mutate("chat-completion-tool-calls.json", r -> {
            ObjectNode call = (ObjectNode) firstChoice(r).get("message").get("tool_calls").get(0);
            call.put("type", "retrieval");
        });
        assertThat(OpenAiSchemas.errors(CHAT_COMPLETION_RESPONSE, json)).isNotEmpty();
    }

    @Test
    void nonJsonFails() {
        assertThat(OpenAiSchemas.errors(ERROR_RESPONSE, "<html>502 Bad Gateway</html>"))
                .singleElement().asString().startsWith("not valid JSON");
        assertThat(OpenAiSchemas.errors(ERROR_RESPONSE, "")).singleElement().asString().startsWith("not valid JSON");
        assertThatThrownBy(() -> OpenAiSchemas.assertValid(ERROR_RESPONSE, "{\"error\":"))
                .isInstanceOf(AssertionError.class).hasMessageContaining("not valid JSON");
    }

    @Test
    void errorMessagesAreFormattedByTheValidatorsOwnBundle() {
        // wiremock-standalone carries an old jsv-messages.properties that would otherwise garble these
        List<String> errors = OpenAiSchemas.errors(CHAT_COMPLETION_RESPONSE,
                mutate("chat-completion.json", r -> {
                    r.put("created", "yesterday");
                    r.remove("id");
                }));
        assertThat(errors).containsExactlyInAnyOrder(
                "/created: string found, integer expected",
                ": required property 'id' not found");
        assertThat(errors).noneSatisfy(e -> assertThat(e).containsPattern("\\{\\d\\}"));
    }

    // ------------------------------------------------------------------------------------------------ invalid streams

    @Test
    void streamWithoutDoneFails() {
        String sse = fixture("chat-completion-stream.sse").replace("data: [DONE]", "");
        assertThatThrownBy(() -> OpenAiSchemas.assertSseStreamValid(CHAT_COMPLETION_CHUNK, sse))
                .isInstanceOf(AssertionError.class).hasMessageContaining("does not end with 'data: [DONE]'");
    }

    @Test
    void streamWithInvalidChunkFails() {
        String sse = fixture("chat-completion-stream.sse")
                .replaceFirst("\"object\":\"chat.completion.chunk\"", "\"object\":\"chat.completion\"");
        assertThatThrownBy(() -> OpenAiSchemas.assertSseStreamValid(CHAT_COMPLETION_CHUNK, sse))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("event #0 does not conform")
                .hasMessageContaining("/object");
    }

    @Test
    void streamWithErrorPayloadOrDataAfterDoneOrNoChunksFails() {
        String valid = fixture("chat-completion-stream.sse");
        String midStreamError = valid.replace("data: [DONE]",
                "data: {\"error\":{\"message\":\"upstream died\",\"type\":\"server_error\",\"param\":null,"
                        + "\"code\":null}}\n\ndata: [DONE]");
        assertThatThrownBy(() -> OpenAiSchemas.assertSseStreamValid(CHAT_COMPLETION_CHUNK, midStreamError))
                .isInstanceOf(AssertionError.class).hasMessageContaining("event #5 does not conform");

        String afterDone = valid + "data: {\"id\":\"late\"}\n\n";
        assertThatThrownBy(() -> OpenAiSchemas.assertSseStreamValid(CHAT_COMPLETION_CHUNK, afterDone))
                .isInstanceOf(AssertionError.class).hasMessageContaining("followed by 1 more data event");

        assertThatThrownBy(() -> OpenAiSchemas.assertSseStreamValid(CHAT_COMPLETION_CHUNK, "data: [DONE]\n\n"))
                .isInstanceOf(AssertionError.class).hasMessageContaining("no data payload other than [DONE]");
        assertThatThrownBy(() -> OpenAiSchemas.assertSseStreamValid(CHAT_COMPLETION_CHUNK, ""))
                .isInstanceOf(AssertionError.class).hasMessageContaining("does not end with");
    }

    // ------------------------------------------------------------------------------------------------ llama.cpp

    /**
     * llama.cpp's llama-server omits {@code message.refusal} and {@code choices[].logprobs}, both of which the spec
     * requires (as nullable). The checker reports exactly those two problems, nothing else: a file-path model name
     * and the extra {@code timings} object are fine. Once the two are added as null, the body conforms.
     */
    @Test
    void llamaCppResponseIsMissingRequiredNullableFields() {
        String llama = fixture("llamacpp-chat-completion.json");
        List<String> errors = OpenAiSchemas.errors(CHAT_COMPLETION_RESPONSE, llama);
        assertThat(errors).hasSize(2);
        assertThat(errors).anySatisfy(e -> assertThat(e).contains("/choices/0").contains("logprobs"));
        assertThat(errors).anySatisfy(e -> assertThat(e).contains("/choices/0/message").contains("refusal"));

        String normalised = mutate("llamacpp-chat-completion.json", r -> {
            firstChoice(r).putNull("logprobs");
            ((ObjectNode) firstChoice(r).get("message")).putNull("refusal");
        });
        OpenAiSchemas.assertValid(CHAT_COMPLETION_RESPONSE, normalised);
    }

    // ------------------------------------------------------------------------------------------------ rewriter unit

    @Test
    void rewriterDropsDiscriminatorsAndExtensionsButNotSameNamedProperties() {
        ObjectNode doc = (ObjectNode) JSON.readTree("""
                {"x-oaiMeta":{"a":1},"components":{"schemas":{
                  "U":{"oneOf":[{"$ref":"#/components/schemas/A"}],"discriminator":{"propertyName":"type"},
                       "x-stainless-const":true},
                  "P":{"type":"object","properties":{"discriminator":{"type":"object"},"x-id":{"type":"string"}}}
                }}}""");
        OpenAiSchemas.SpecRewriter.Stats stats = OpenAiSchemas.SpecRewriter.rewrite(doc);
        assertThat(stats.discriminators()).isEqualTo(1);
        assertThat(stats.extensions()).isEqualTo(2);
        assertThat(JSON.writeValueAsString(doc)).isEqualTo("{\"components\":{\"schemas\":{"
                + "\"U\":{\"oneOf\":[{\"$ref\":\"#/components/schemas/A\"}]},"
                + "\"P\":{\"type\":\"object\",\"properties\":{\"discriminator\":{\"type\":\"object\"},"
                + "\"x-id\":{\"type\":\"string\"}}}}}}");
    }

    @Test
    void nullableRewriterHandlesTypedEnumRefCompositionAndFalse() {
        ObjectNode doc = (ObjectNode) JSON.readTree("""
                {"components":{"schemas":{
                  "A":{"type":"string","enum":["stop","length"],"nullable":true},
                  "B":{"$ref":"#/components/schemas/A","nullable":true,"description":"d"},
                  "C":{"allOf":[{"$ref":"#/components/schemas/A"},{"nullable":true}]},
                  "D":{"anyOf":[{"type":"string"}],"nullable":false},
                  "E":{"type":"object","properties":{"nullable":{"type":"boolean"},"x":{"type":"integer","nullable":true}},
                       "example":{"nullable":true}},
                  "F":{"type":["string","integer"],"nullable":true},
                  "G":{"type":"object","nullable":true,"allOf":[{"$ref":"#/components/schemas/E"}]}
                }}}""");
        OpenAiSchemas.SpecRewriter.Stats stats = OpenAiSchemas.SpecRewriter.rewrite(doc);
        JsonNode s = doc.get("components").get("schemas");
        assertThat(stats.nullable()).isEqualTo(7);
        assertThat(JSON.writeValueAsString(s.get("A")))
                .isEqualTo("{\"type\":[\"string\",\"null\"],\"enum\":[\"stop\",\"length\",null]}");
        assertThat(JSON.writeValueAsString(s.get("B")))
                .isEqualTo("{\"anyOf\":[{\"$ref\":\"#/components/schemas/A\",\"description\":\"d\"},{\"type\":\"null\"}]}");
        assertThat(JSON.writeValueAsString(s.get("C").get("allOf").get(1)))
                .isEqualTo("{\"anyOf\":[{},{\"type\":\"null\"}]}");
        assertThat(JSON.writeValueAsString(s.get("D"))).isEqualTo("{\"anyOf\":[{\"type\":\"string\"}]}");
        assertThat(JSON.writeValueAsString(s.get("E").get("properties").get("nullable")))
                .isEqualTo("{\"type\":\"boolean\"}"); // a property named "nullable" is not the keyword
        assertThat(JSON.writeValueAsString(s.get("E").get("properties").get("x")))
                .isEqualTo("{\"type\":[\"integer\",\"null\"]}");
        assertThat(JSON.writeValueAsString(s.get("E").get("example"))).isEqualTo("{\"nullable\":true}"); // data
        assertThat(JSON.writeValueAsString(s.get("F").get("type"))).isEqualTo("[\"string\",\"integer\",\"null\"]");
        assertThat(s.get("G").has("anyOf")).isTrue();
        assertThat(s.get("G").get("anyOf").get(0).get("type").stringValue()).isEqualTo("object");
        assertThat(((ArrayNode) s.get("G").get("anyOf")).get(1).get("type").stringValue()).isEqualTo("null");
    }
}
