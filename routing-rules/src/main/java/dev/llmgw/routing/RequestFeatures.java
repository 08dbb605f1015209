package dev.llmgw.routing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.routing.semantic.SemanticScores;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * What the rules can see of one completion request. Built by {@link FeatureExtractor}; every feature
 * is read from the request body lazily, when a rule first needs it, and remembered: the messages are
 * walked at most once and the prompt is tokenized at most once (and only if a {@code promptTokens}
 * rule is reached).
 *
 * <p>Not thread-safe: one instance belongs to one request and is used by one thread at a time.
 */
public final class RequestFeatures {

  private final JsonNode body;
  private final Function<String, String> headers;
  private final String apiKeyName;
  private final String team;
  private MessageScan scan;
  private int promptTokens = -1;
  private long promptTokensBound = -1;
  private List<String> segments;
  private SemanticScores semantic;
  private String judgeVerdict;

  RequestFeatures(JsonNode body, Function<String, String> headers, String apiKeyName, String team) {
    this.body = body;
    this.headers = headers;
    this.apiKeyName = apiKeyName;
    this.team = team;
  }

  /** The requested {@code model}, or {@code null} when absent or not a string. */
  public String model() {
    return text(body.get("model"));
  }

  /** The value of a request header, or {@code null}; {@code lowerCaseName} is the header name. */
  public String header(String lowerCaseName) {
    return headers.apply(lowerCaseName);
  }

  /** A field of the OpenAI {@code metadata} object as text, or {@code null} when not set. */
  public String metadata(String key) {
    JsonNode metadata = body.get("metadata");
    if (metadata == null || !metadata.isObject()) {
      return null;
    }
    JsonNode v = metadata.get(key);
    return v == null || v.isNull() || v.isContainerNode() ? null : v.asText();
  }

  /** The OpenAI {@code user} field, or {@code null}. */
  public String user() {
    return text(body.get("user"));
  }

  /** Estimated prompt tokens (see {@link FeatureExtractor}); computed on first call. */
  public int promptTokens() {
    if (promptTokens < 0) {
      promptTokens = PromptTokens.estimate(scan());
    }
    return promptTokens;
  }

  /** A cheap bound {@link #promptTokens()} never exceeds, to skip tokenizing when it decides. */
  long promptTokensUpperBound() {
    if (promptTokens >= 0) {
      return promptTokens;
    }
    if (promptTokensBound < 0) {
      promptTokensBound = PromptTokens.upperBound(scan());
    }
    return promptTokensBound;
  }

  /** Number of messages (a legacy {@code prompt} counts as one). */
  public int messageCount() {
    return scan().texts.length;
  }

  /** Text of the last {@code user} message, or {@code null} when there is none. */
  public String lastUserMessage() {
    MessageScan s = scan();
    return s.lastUser < 0 ? null : s.texts[s.lastUser];
  }

  /** Text of the {@code system} and {@code developer} messages, joined by newlines; may be empty. */
  public String systemPrompt() {
    return String.join("\n", texts(true));
  }

  /** Text of every message, in order. */
  public List<String> messageTexts() {
    return texts(false);
  }

  /** Whether {@code tools} or {@code functions} is a non-empty array. */
  public boolean tools() {
    return nonEmptyArray(body.get("tools")) || nonEmptyArray(body.get("functions"));
  }

  /** Whether {@code response_format.type} is {@code json_schema}. */
  public boolean jsonSchema() {
    return "json_schema".equals(text(body.path("response_format").get("type")));
  }

  /** Whether any message has an {@code image_url} or {@code input_image} content part. */
  public boolean images() {
    return scan().images;
  }

  /** {@code max_completion_tokens}, else {@code max_tokens}, or {@code -1} when neither is a number. */
  public long maxTokens() {
    JsonNode v = body.get("max_completion_tokens");
    if (v == null || !v.isNumber()) {
      v = body.get("max_tokens");
    }
    return v != null && v.isNumber() ? v.longValue() : -1;
  }

  /** {@code temperature}, or {@code NaN} when absent or not a number. */
  public double temperature() {
    JsonNode v = body.get("temperature");
    return v != null && v.isNumber() ? v.doubleValue() : Double.NaN;
  }

  /** Name of the calling API key, or {@code null} when the gateway did not provide one. */
  public String apiKeyName() {
    return apiKeyName;
  }

  /** Team of the calling API key, or {@code null} when the gateway did not provide one. */
  public String team() {
    return team;
  }

  /**
   * The texts the semantic classifier and the judge read, most telling first: the last user
   * message (and its end, when it is long), up to {@value Segments#EARLIER_USER_TURNS} earlier user turns (latest first), the system
   * prompt, the tool calls made so far in the conversation (names and arguments), and the tools
   * offered (names and descriptions). Empty parts are left out; built on first call.
   */
  public List<String> segments() {
    if (segments == null) {
      segments = Segments.of(body, scan());
    }
    return segments;
  }

  /**
   * The semantic scores of this request.
   *
   * @throws SignalNeeded when they have not been computed yet
   */
  public SemanticScores semantic() {
    if (semantic == null) {
      throw SignalNeeded.SEMANTIC;
    }
    return semantic;
  }

  /** Stores the semantic scores computed for this request (see {@link SignalNeeded}). */
  public void semantic(SemanticScores scores) {
    this.semantic = scores;
  }

  /** Whether semantic scores were computed for this request. */
  public boolean hasSemantic() {
    return semantic != null;
  }

  /**
   * The tier the judge named for this request.
   *
   * @throws SignalNeeded when the judge has not been asked yet
   */
  public String judgeVerdict() {
    if (judgeVerdict == null) {
      throw SignalNeeded.JUDGE;
    }
    return judgeVerdict;
  }

  /** Stores the judge's verdict: a tier name (see {@link SignalNeeded}). */
  public void judgeVerdict(String tier) {
    this.judgeVerdict = tier;
  }

  /** Whether the judge was asked about this request. */
  public boolean hasJudgeVerdict() {
    return judgeVerdict != null;
  }

  MessageScan scan() {
    if (scan == null) {
      scan = MessageScan.of(body);
    }
    return scan;
  }

  private List<String> texts(boolean systemOnly) {
    MessageScan s = scan();
    List<String> out = new ArrayList<>(s.texts.length);
    for (int i = 0; i < s.texts.length; i++) {
      if (!systemOnly || s.roles[i] == MessageScan.SYSTEM) {
        out.add(s.texts[i]);
      }
    }
    return out;
  }

  private static String text(JsonNode node) {
    return node != null && node.isTextual() ? node.textValue() : null;
  }

  private static boolean nonEmptyArray(JsonNode node) {
    return node != null && node.isArray() && !node.isEmpty();
  }
}
