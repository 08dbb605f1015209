package dev.llmgw.routing.raw;

import java.util.List;

/**
 * One condition: exactly one of the components must be set.
 *
 * @param all             matches when every nested condition matches
 * @param any             matches when at least one nested condition matches
 * @param not             matches when the nested condition does not
 * @param model           glob over the requested model, e.g. {@code gpt-4*} or {@code auto}
 * @param header          a request header
 * @param metadata        a field of the OpenAI {@code metadata} object
 * @param user            the OpenAI {@code user} field
 * @param promptTokens    estimated prompt tokens
 * @param messages        number of messages
 * @param lastUserMessage text of the last user message
 * @param systemPrompt    text of the system and developer messages
 * @param anyMessage      text of any message
 * @param tools           {@code true}/{@code false}: tools or functions present
 * @param jsonSchema      {@code true}/{@code false}: {@code response_format.type} is
 *                        {@code json_schema}
 * @param images          {@code true}/{@code false}: image content parts present
 * @param maxTokens       {@code max_tokens} or {@code max_completion_tokens}
 * @param temperature     {@code temperature}
 * @param apiKey          name of the calling API key
 * @param team            team of the calling API key
 * @param semantic        the request's similarity to a tier's examples
 * @param judge           the tier the judge model names
 */
public record ConditionYaml(
    List<ConditionYaml> all,
    List<ConditionYaml> any,
    ConditionYaml not,
    String model,
    HeaderYaml header,
    MetadataYaml metadata,
    UserYaml user,
    RangeYaml promptTokens,
    RangeYaml messages,
    TextYaml lastUserMessage,
    TextYaml systemPrompt,
    TextYaml anyMessage,
    String tools,
    String jsonSchema,
    String images,
    RangeYaml maxTokens,
    RangeYaml temperature,
    IdentityYaml apiKey,
    IdentityYaml team,
    SemanticConditionYaml semantic,
    String judge) {}
