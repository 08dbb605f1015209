package dev.llmgw.routing;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One walk over a request's messages (chat {@code messages}, or a legacy {@code prompt} taken as one
 * user message): the text of each message, its role, and whether any content part is an image. Text
 * content is kept as the JSON node's own string, so a plain string message costs no copy; content-part
 * arrays have their text parts joined with newlines.
 */
final class MessageScan {

  static final byte OTHER = 0;
  static final byte USER = 1;
  static final byte SYSTEM = 2;

  private static final String[] NO_TEXTS = new String[0];
  private static final byte[] NO_ROLES = new byte[0];

  final String[] texts;
  final byte[] roles;
  /** Index of the last user message, or -1. */
  final int lastUser;
  final boolean images;
  /** Whether these are chat messages (per-message token overhead applies). */
  final boolean chat;

  private MessageScan(String[] texts, byte[] roles, int lastUser, boolean images, boolean chat) {
    this.texts = texts;
    this.roles = roles;
    this.lastUser = lastUser;
    this.images = images;
    this.chat = chat;
  }

  static MessageScan of(JsonNode body) {
    JsonNode messages = body.get("messages");
    if (messages != null && messages.isArray()) {
      return chat(messages);
    }
    JsonNode prompt = body.get("prompt");
    if (prompt != null && !prompt.isNull()) {
      return new MessageScan(new String[] {promptText(prompt)}, new byte[] {USER}, 0, false, false);
    }
    return new MessageScan(NO_TEXTS, NO_ROLES, -1, false, false);
  }

  private static MessageScan chat(JsonNode messages) {
    int n = messages.size();
    String[] texts = new String[n];
    byte[] roles = new byte[n];
    int lastUser = -1;
    boolean images = false;
    for (int i = 0; i < n; i++) {
      JsonNode m = messages.get(i);
      roles[i] = role(m.path("role").asText(""));
      if (roles[i] == USER) {
        lastUser = i;
      }
      JsonNode content = m.get("content");
      if (content != null && content.isArray()) {
        images |= hasImage(content);
        texts[i] = partsText(content);
      } else {
        texts[i] = content != null && content.isTextual() ? content.textValue() : "";
      }
    }
    return new MessageScan(texts, roles, lastUser, images, true);
  }

  private static byte role(String role) {
    switch (role) {
      case "user":
        return USER;
      case "system":
      case "developer":
        return SYSTEM;
      default:
        return OTHER;
    }
  }

  private static String partsText(JsonNode parts) {
    StringBuilder sb = null;
    String single = "";
    for (JsonNode part : parts) {
      String text = part.isTextual() ? part.textValue() : part.path("text").isTextual()
          ? part.path("text").textValue() : null;
      if (text == null) {
        continue;
      }
      if (sb == null && single.isEmpty()) {
        single = text;
      } else {
        if (sb == null) {
          sb = new StringBuilder(single);
        }
        sb.append('\n').append(text);
      }
    }
    return sb == null ? single : sb.toString();
  }

  private static boolean hasImage(JsonNode parts) {
    for (JsonNode part : parts) {
      String type = part.path("type").asText("");
      if (type.equals("image_url") || type.equals("input_image")) {
        return true;
      }
    }
    return false;
  }

  /** A legacy completions {@code prompt}: a string, or an array whose strings are joined. */
  private static String promptText(JsonNode prompt) {
    if (prompt.isTextual()) {
      return prompt.textValue();
    }
    if (!prompt.isArray()) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    for (JsonNode p : prompt) {
      if (p.isTextual()) {
        if (sb.length() > 0) {
          sb.append('\n');
        }
        sb.append(p.textValue());
      }
    }
    return sb.toString();
  }
}
