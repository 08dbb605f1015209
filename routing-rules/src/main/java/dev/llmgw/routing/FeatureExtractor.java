package dev.llmgw.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.util.function.Function;

/**
 * Builds the {@link RequestFeatures} of one chat-completion ({@code messages}) or legacy completion
 * ({@code prompt}, a string or an array of strings, taken as one user message) request body.
 *
 * <p>Nothing is computed here: features are read lazily when a rule needs them. The prompt-token
 * estimate uses jtokkit's {@code cl100k_base} encoding over the text of every message (content-part
 * arrays contribute their text parts), plus OpenAI's chat framing overhead; prompts longer than
 * {@value TokenCount#EXACT_CHARS} characters are estimated from windows spread over them
 * ({@link TokenCount}), so one request never tokenizes more than that.
 */
public final class FeatureExtractor {

  private static final Function<String, String> NO_HEADERS = name -> null;

  private FeatureExtractor() {}

  /**
   * @param body         the parsed request body ({@code null} is taken as an empty body)
   * @param headerLookup lower-case header name to value, or {@code null} when not sent; may be
   *                     {@code null} for no headers. Called lazily, only for headers rules test
   * @param apiKeyName   name of the calling API key, or {@code null}
   * @param team         team of the calling API key, or {@code null}
   */
  public static RequestFeatures extract(JsonNode body, Function<String, String> headerLookup,
      String apiKeyName, String team) {
    return new RequestFeatures(body == null ? MissingNode.getInstance() : body,
        headerLookup == null ? NO_HEADERS : headerLookup, apiKeyName, team);
  }

  /**
   * Loads the tokenizer vocabulary (a few hundred milliseconds, once per process) so that the first
   * request needing a prompt-token estimate does not pay for it (a rules-only policy decides on the
   * event loop). Call at start-up, off the event loops.
   */
  public static void warmUp() {
    Vocabulary.CL100K.encoding().countTokensOrdinary("warm up");
  }
}
