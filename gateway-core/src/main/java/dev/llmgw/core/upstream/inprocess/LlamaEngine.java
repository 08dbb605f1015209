package dev.llmgw.core.upstream.inprocess;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaIterator;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import dev.llmgw.core.config.GgufFile;
import dev.llmgw.core.config.InProcessSpec;
import dev.llmgw.core.ingress.RequestParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A GGUF model loaded with llama.cpp through its JNI binding ({@code de.kherud:llama}): the binding
 * runs llama.cpp's own server loop on a native thread, with one slot per sequence
 * ({@link InProcessSpec#maxSequences()}), each with {@link InProcessSpec#contextSize()} tokens of KV
 * cache; a generation is a streamed completion task, pulled token by token.
 *
 * <p><b>Usage.</b> The binding reports text, not counts, so the counts are made here the way llama.cpp
 * makes them: prompt tokens are the prompt tokenized by the model plus the start token llama.cpp adds
 * ({@link GgufFile.Info#addsBos()}); completion tokens are the streamed pieces, one per generated
 * token (end-of-sequence and other special tokens included, as llama-server counts them). llama.cpp
 * holds back a byte token that leaves a character incomplete and sends it with the next one: with a
 * SentencePiece vocabulary, a piece that is one character the vocabulary has no token for counts as
 * its UTF-8 length in tokens (the byte tokens that spelled it). A character the vocabulary has that
 * the model still spelled in bytes, or a character left incomplete at the very end, would be counted
 * one token short; with other vocabularies (byte-level BPE), each held-back token is. The tests check
 * the counts against llama-server's own report.
 *
 * <p><b>Natives.</b> The binding unpacks its library into {@code de.kherud.llama.tmpdir} and, before
 * that, deletes every file there whose name starts with {@code llama} or {@code jllama}; unset, that
 * is the system temporary directory, shared with other programs. The engine points it at a directory
 * of its own first.
 *
 * <p><b>Threads.</b> {@link #generate} and {@link Generation#next()} block on native calls: worker
 * threads only. {@link #close()} frees the model; no generation may be running then.
 */
public final class LlamaEngine implements InferenceEngine {
  private static final Logger LOG = LoggerFactory.getLogger(LlamaEngine.class);
  private static final String TMPDIR_PROPERTY = "de.kherud.llama.tmpdir";

  private final LlamaModel model;
  private final int contextSize;
  private final boolean usesTemplate;
  private final int specialPromptTokens;
  /** SentencePiece vocabularies: the one-character pieces (byte-token counting); null for other kinds. */
  private final Set<String> oneCharPieces;
  private final String description;
  private boolean closed;

  private LlamaEngine(LlamaModel model, int contextSize, boolean usesTemplate, int specialPromptTokens,
      Set<String> oneCharPieces, String description) {
    this.model = model;
    this.description = description;
    this.contextSize = contextSize;
    this.usesTemplate = usesTemplate;
    this.specialPromptTokens = specialPromptTokens;
    this.oneCharPieces = oneCharPieces;
  }

  /** The model could not be loaded; the message names the file and says why. */
  public static final class LoadException extends Exception {
    private static final long serialVersionUID = 1L;

    LoadException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Loads a model (seconds for a large one: call it off the event loops).
   *
   * @throws LoadException when the file cannot be read or llama.cpp refuses it
   */
  public static LlamaEngine load(InProcessSpec spec) throws LoadException {
    Path file = spec.model();
    GgufFile.Info info;
    try {
      info = GgufFile.read(file, true);
    } catch (GgufFile.GgufException e) {
      throw new LoadException("model file " + file + ": " + e.getMessage(), null);
    }
    prepareNatives();
    ModelParameters p = new ModelParameters()
        .setModel(file.toString())
        .setCtxSize(spec.contextSize() * spec.maxSequences())
        .setParallel(spec.maxSequences())
        .setThreads(spec.threads())
        .setThreadsBatch(spec.threads())
        .disableLog();
    if (spec.chatTemplate() != null) {
      p.setChatTemplate(spec.chatTemplate());
    }
    LlamaModel model;
    try {
      model = new LlamaModel(p);
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      throw new LoadException("model file " + file + ": llama.cpp could not load it (" + e.getMessage() + ")", e);
    }
    Set<String> oneChar = null;
    if ("llama".equals(info.tokenizer())) {
      oneChar = new HashSet<>();
      for (String t : info.tokens()) {
        String piece = t.replace('\u2581', ' ');
        if (piece.codePointCount(0, piece.length()) == 1) {
          oneChar.add(piece);
        }
      }
    }
    int special = (info.addsBos() ? 1 : 0) + (info.addsEos() ? 1 : 0);
    boolean template = spec.chatTemplate() != null || info.hasChatTemplate();
    String description = info.describe() + "; chat: " + (spec.chatTemplate() != null ? "template " + spec.chatTemplate()
        : info.hasChatTemplate() ? "the model's template" : "plain transcript") + "; about "
        + GgufFile.sizeText(info.estimate((long) spec.contextSize() * spec.maxSequences()).total())
        + " with its KV cache";
    return new LlamaEngine(model, spec.contextSize(), template, special, oneChar, description);
  }

  /** Points the binding's unpacking at a directory of this process's own (see the class comment). */
  private static synchronized void prepareNatives() {
    if (System.getProperty(TMPDIR_PROPERTY) != null) {
      return;
    }
    try {
      Path dir = Files.createTempDirectory("llmgw-native-");
      dir.toFile().deleteOnExit();
      System.setProperty(TMPDIR_PROPERTY, dir.toString());
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try (var files = Files.list(dir)) {
          files.forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
          // best effort: the directory is the process's own
        }
        dir.toFile().delete();
      }, "llmgw-native-cleanup"));
    } catch (IOException e) {
      LOG.warn("cannot make a directory for llama.cpp's native library ({}); it unpacks into the system"
          + " temporary directory", e.toString());
    }
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public int contextSize() {
    return contextSize;
  }

  @Override
  public int promptTokens(String prompt) {
    return model.encode(prompt).length + specialPromptTokens;
  }

  @Override
  public boolean usesTemplate() {
    return usesTemplate;
  }

  @Override
  public String chatPrompt(List<Message> messages) {
    if (!usesTemplate) {
      return ChatPrompts.plain(messages);
    }
    ObjectNode root = RequestParser.JSON.createObjectNode();
    ArrayNode list = root.putArray("messages");
    for (Message m : messages) {
      String role = switch (m.role()) {
        case "developer" -> "system";
        case "function" -> "tool";
        default -> m.role();
      };
      list.addObject().put("role", role).put("content", m.content() == null ? "" : m.content());
    }
    return model.applyTemplate(root.toString());
  }

  @Override
  public Generation generate(Params params) {
    InferenceParameters ip = new InferenceParameters(params.prompt()).setNPredict(params.maxTokens());
    if (params.temperature() != null) {
      ip.setTemperature(params.temperature());
    }
    if (params.topP() != null) {
      ip.setTopP(params.topP());
    }
    if (params.topK() != null) {
      ip.setTopK(params.topK());
    }
    if (params.minP() != null) {
      ip.setMinP(params.minP());
    }
    if (params.seed() != null) {
      ip.setSeed(params.seed());
    }
    if (params.presencePenalty() != null) {
      ip.setPresencePenalty(params.presencePenalty());
    }
    if (params.frequencyPenalty() != null) {
      ip.setFrequencyPenalty(params.frequencyPenalty());
    }
    if (params.repeatPenalty() != null) {
      ip.setRepeatPenalty(params.repeatPenalty());
    }
    if (params.ignoreEos()) {
      ip.setIgnoreEos(true);
    }
    if (!params.stop().isEmpty()) {
      ip.setStopStrings(params.stop().toArray(String[]::new));
    }
    LlamaIterator it = model.generate(ip).iterator();
    return new Generation() {
      private boolean ended;

      @Override
      public Piece next() {
        if (ended || !it.hasNext()) {
          ended = true;
          return null;
        }
        LlamaOutput out = it.next();
        if (!it.hasNext()) { // the final result: in a stream it carries no new text
          ended = true;
          return out.text.isEmpty() ? null : new Piece(out.text, 0);
        }
        return new Piece(out.text, tokens(out.text));
      }

      @Override
      public void cancel() {
        if (!ended) {
          ended = true;
          it.cancel();
        }
      }
    };
  }

  int tokens(String piece) {
    return tokens(oneCharPieces, piece);
  }

  /**
   * Tokens a streamed piece stands for (see the class comment).
   *
   * @param oneCharPieces a SentencePiece vocabulary's one-character pieces, or null for other kinds
   */
  static int tokens(Set<String> oneCharPieces, String piece) {
    if (oneCharPieces == null || piece.isEmpty() || piece.codePointCount(0, piece.length()) != 1) {
      return 1;
    }
    int bytes = piece.getBytes(StandardCharsets.UTF_8).length;
    return bytes > 1 && !oneCharPieces.contains(piece) ? bytes : 1;
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      model.close();
    }
  }
}
