package dev.llmgw.core.upstream.inprocess;

import dev.llmgw.core.upstream.inprocess.InferenceEngine.Message;
import java.util.List;

/**
 * The prompt a chat becomes for a model without a chat template (a base model such as the
 * TinyStories test model): a plain transcript that a text model can continue.
 *
 * <pre>
 * You are a storyteller.          (system and developer messages, in order, one per line)
 *                                 (a blank line after them)
 * User: Tell me a story.
 * Assistant: Once upon a time...
 * User: Another one.
 * Assistant:                      (the model continues here)
 * </pre>
 *
 * Generation stops at {@link #STOP} (the model starting the user's next turn), which is not part of
 * the answer. Tool results are shown as {@code Tool: ...} lines.
 */
final class ChatPrompts {
  /** Where an answer in a plain transcript ends: the model began writing the user's next turn. */
  static final String STOP = "\nUser:";

  private ChatPrompts() {}

  static String plain(List<Message> messages) {
    StringBuilder system = new StringBuilder();
    StringBuilder turns = new StringBuilder();
    for (Message m : messages) {
      String text = m.content() == null ? "" : m.content().strip();
      switch (m.role()) {
        case "system", "developer" -> {
          if (!text.isEmpty()) {
            system.append(text).append('\n');
          }
        }
        case "assistant" -> turns.append("Assistant: ").append(text).append('\n');
        case "tool", "function" -> turns.append("Tool: ").append(text).append('\n');
        default -> turns.append("User: ").append(text).append('\n');
      }
    }
    if (system.length() > 0) {
      system.append('\n');
    }
    return system.append(turns).append("Assistant:").toString();
  }
}
