package dev.llmgw.core.config;

import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the header of a GGUF model file (llama.cpp's format): its metadata and tensor table, without
 * loading any weights. Used to refuse a missing, foreign or truncated file with a clear message
 * before llama.cpp sees it, to estimate the memory a model needs, and to learn what the in-process
 * backend needs to know (architecture, trained context, chat template, the vocabulary).
 *
 * <p>Format (little-endian): magic {@code GGUF}, version (2 or 3), tensor count, metadata count, the
 * metadata key/value pairs, one entry per tensor (name, dimensions, type, offset), then the tensor
 * data from the next multiple of {@code general.alignment} (32 by default). Every tensor must end
 * within the file: a file cut short is refused here rather than failing inside the native loader.
 */
public final class GgufFile {
  private static final int MAGIC = 0x46554747; // "GGUF" read little-endian

  /** What the header says. */
  public record Info(
      Path path,
      long fileBytes,
      int version,
      String architecture,
      String name,
      long parameters,
      int contextLength,
      int blockCount,
      int embeddingLength,
      int headCount,
      int headCountKv,
      int keyLength,
      int valueLength,
      int vocabSize,
      boolean hasChatTemplate,
      String tokenizer,
      Boolean addBos,
      Boolean addEos,
      List<String> tokens) {

    /**
     * Whether llama.cpp puts a start-of-sequence token before a prompt: the file's
     * {@code tokenizer.ggml.add_bos_token}, else llama.cpp's default for the tokenizer (SentencePiece
     * {@code llama} and WordPiece {@code bert} do, byte-level BPE {@code gpt2} and others do not).
     */
    public boolean addsBos() {
      return addBos != null ? addBos : "llama".equals(tokenizer) || "bert".equals(tokenizer);
    }

    /** Whether llama.cpp puts an end-of-sequence token after a prompt (WordPiece and T5 tokenizers). */
    public boolean addsEos() {
      return addEos != null ? addEos : "bert".equals(tokenizer) || "t5".equals(tokenizer);
    }

    /**
     * Memory the model needs loaded with {@code contextTokens} of KV cache in all (every sequence's
     * context): the weights (the data part of the file, mapped), the KV cache in f16, and llama.cpp's
     * working buffers (logits for a 512-token batch, and a fixed allowance for the compute graph).
     * An estimate for refusing what cannot fit, not an accounting.
     */
    public Estimate estimate(long contextTokens) {
      long kvPerToken = 0;
      if (blockCount > 0 && embeddingLength > 0 && headCount > 0) {
        int headDimK = keyLength > 0 ? keyLength : embeddingLength / headCount;
        int headDimV = valueLength > 0 ? valueLength : embeddingLength / headCount;
        int kvHeads = headCountKv > 0 ? headCountKv : headCount;
        kvPerToken = (long) blockCount * kvHeads * (headDimK + headDimV) * 2L; // f16 K and V
      }
      long kv = kvPerToken * contextTokens;
      long buffers = (long) Math.max(vocabSize, 0) * 512L * 4L + (32L << 20);
      return new Estimate(fileBytes, kv, buffers);
    }

    /** One line for logs: {@code llama "name", 292.8k parameters, trained context 2048, no chat template}. */
    public String describe() {
      return architecture + (name == null || name.isBlank() ? "" : " \"" + name + "\"") + ", "
          + humanCount(parameters) + " parameters, trained context " + (contextLength > 0 ? contextLength : "unknown")
          + ", " + (hasChatTemplate ? "chat template" : "no chat template");
    }
  }

  /** Estimated bytes: the weights, the KV cache and working buffers. */
  public record Estimate(long weights, long kvCache, long buffers) {
    public long total() {
      return weights + kvCache + buffers;
    }
  }

  /** The file cannot be used; the message says why, for an operator. */
  public static final class GgufException extends Exception {
    private static final long serialVersionUID = 1L;

    GgufException(String message) {
      super(message, null, false, false);
    }
  }

  private final GgufReader in;
  private final long size;
  private final boolean keepTokens;

  private GgufFile(FileChannel ch, long size, boolean keepTokens) {
    this.in = new GgufReader(ch, size);
    this.size = size;
    this.keepTokens = keepTokens;
  }

  /**
   * Reads a model file's header.
   *
   * @param keepTokens whether to keep the vocabulary (the token strings) in {@link Info#tokens()}
   * @throws GgufException when the file is missing, unreadable, not GGUF, malformed or truncated
   */
  public static Info read(Path path, boolean keepTokens) throws GgufException {
    if (!Files.exists(path)) {
      throw new GgufException("no such file");
    }
    if (Files.isDirectory(path)) {
      throw new GgufException("is a directory (expected a .gguf file)");
    }
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      return new GgufFile(ch, ch.size(), keepTokens).parse(path);
    } catch (NoSuchFileException e) {
      throw new GgufException("no such file");
    } catch (AccessDeniedException e) {
      throw new GgufException("cannot be read (permission denied)");
    } catch (EOFException e) {
      throw new GgufException("truncated: the header ends early (" + sizeText(pathSize(path)) + ")");
    } catch (IOException e) {
      throw new GgufException("cannot be read: " + e.getMessage());
    }
  }

  private static long pathSize(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return -1;
    }
  }

  private Info parse(Path path) throws IOException, GgufException {
    if (size < 24) {
      throw new GgufException("not a GGUF model file (" + size + " bytes)");
    }
    int magic = in.i32();
    if (magic != MAGIC) {
      throw new GgufException("not a GGUF model file (it starts with " + printable(magic) + ", expected \"GGUF\")");
    }
    int version = in.i32();
    if (version < 2 || version > 3) {
      throw new GgufException("GGUF version " + Integer.toUnsignedString(version) + " is not supported (expected 2 or 3)");
    }
    long tensorCount = in.u64("tensor count");
    long kvCount = in.u64("metadata count");
    if (tensorCount > size / 24 || kvCount > size / 12) {
      throw new GgufException("truncated or malformed header: " + tensorCount + " tensors and " + kvCount
          + " metadata entries cannot fit in " + sizeText(size));
    }
    Map<String, Object> kv = new HashMap<>();
    List<String> tokens = null;
    int vocabSize = 0;
    for (long i = 0; i < kvCount; i++) {
      String key = in.string("metadata key");
      int type = in.i32();
      if (key.equals("tokenizer.ggml.tokens") && type == 9) {
        int elementType = in.i32();
        long n = in.u64("vocabulary size");
        if (elementType != 8) {
          throw new GgufException("malformed header: tokenizer.ggml.tokens is not a list of strings");
        }
        if (n > (size - in.position()) / 8) {
          throw new GgufException("truncated or malformed header: " + n + " tokens cannot fit in the "
              + (size - in.position()) + " bytes left of the file");
        }
        vocabSize = (int) n;
        List<String> t = keepTokens ? new ArrayList<>((int) n) : null;
        for (long j = 0; j < n; j++) {
          String s = in.string("token");
          if (t != null) {
            t.add(s);
          }
        }
        tokens = t;
        continue;
      }
      Object v = in.value(type, key);
      if (v != null) {
        kv.put(key, v);
      }
    }
    String arch = kv.get("general.architecture") instanceof String s ? s : null;
    if (arch == null) {
      throw new GgufException("malformed header: no general.architecture");
    }
    long alignment = number(kv.get("general.alignment"), 32);
    if (alignment <= 0 || alignment > 1 << 20 || (alignment & (alignment - 1)) != 0) {
      throw new GgufException("malformed header: general.alignment " + alignment);
    }
    long parameters = 0;
    long dataEnd = 0;
    List<long[]> spans = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (long i = 0; i < tensorCount; i++) {
      String name = in.string("tensor name");
      int dims = in.i32();
      if (dims < 1 || dims > 8) {
        throw new GgufException("malformed header: tensor " + name + " has " + dims + " dimensions");
      }
      long elements = 1;
      long rowElements = 0;
      for (int d = 0; d < dims; d++) {
        long n = in.u64("tensor dimension");
        if (d == 0) {
          rowElements = n;
        }
        elements = multiply(elements, n);
      }
      int type = in.i32();
      long offset = in.u64("tensor offset");
      parameters += elements;
      long bytes = tensorBytes(type, elements, rowElements);
      spans.add(new long[] {offset, bytes});
      names.add(name);
    }
    long headerEnd = in.position();
    long dataStart = (headerEnd + alignment - 1) / alignment * alignment;
    for (int i = 0; i < spans.size(); i++) {
      long[] s = spans.get(i);
      if (s[1] < 0) {
        continue; // a type this reader does not size: only its start is checked
      }
      long end = dataStart + s[0] + s[1];
      if (s[0] < 0 || end < 0 || end > size) {
        throw new GgufException("truncated: tensor " + names.get(i) + " ends at byte " + end + " but the file has "
            + size + " bytes (an incomplete download or copy?)");
      }
      dataEnd = Math.max(dataEnd, end);
    }
    for (int i = 0; i < spans.size(); i++) {
      if (spans.get(i)[1] < 0 && dataStart + spans.get(i)[0] > size) {
        throw new GgufException("truncated: tensor " + names.get(i) + " starts past the end of the file");
      }
    }
    String p = arch + ".";
    Object addBos = kv.get("tokenizer.ggml.add_bos_token");
    Object addEos = kv.get("tokenizer.ggml.add_eos_token");
    return new Info(path, size, version, arch, kv.get("general.name") instanceof String s ? s : null, parameters,
        (int) number(kv.get(p + "context_length"), 0), (int) number(kv.get(p + "block_count"), 0),
        (int) number(kv.get(p + "embedding_length"), 0), (int) number(kv.get(p + "attention.head_count"), 0),
        (int) number(kv.get(p + "attention.head_count_kv"), 0), (int) number(kv.get(p + "attention.key_length"), 0),
        (int) number(kv.get(p + "attention.value_length"), 0), vocabSize,
        kv.get("tokenizer.chat_template") instanceof String t && !t.isBlank(),
        kv.get("tokenizer.ggml.model") instanceof String tm ? tm : null,
        addBos instanceof Boolean b ? b : null, addEos instanceof Boolean e ? e : null,
        tokens == null ? List.of() : List.copyOf(tokens));
  }

  /** Bytes of a tensor of a ggml type, or -1 for a type not listed here. */
  static long tensorBytes(int type, long elements, long rowElements) {
    // {block size in elements, bytes per block}, ggml's type numbers
    long[] t = switch (type) {
      case 0 -> new long[] {1, 4};      // F32
      case 1 -> new long[] {1, 2};      // F16
      case 2 -> new long[] {32, 18};    // Q4_0
      case 3 -> new long[] {32, 20};    // Q4_1
      case 6 -> new long[] {32, 22};    // Q5_0
      case 7 -> new long[] {32, 24};    // Q5_1
      case 8 -> new long[] {32, 34};    // Q8_0
      case 9 -> new long[] {32, 36};    // Q8_1
      case 10 -> new long[] {256, 84};  // Q2_K
      case 11 -> new long[] {256, 110}; // Q3_K
      case 12 -> new long[] {256, 144}; // Q4_K
      case 13 -> new long[] {256, 176}; // Q5_K
      case 14 -> new long[] {256, 210}; // Q6_K
      case 15 -> new long[] {256, 292}; // Q8_K
      case 24 -> new long[] {1, 1};     // I8
      case 25 -> new long[] {1, 2};     // I16
      case 26 -> new long[] {1, 4};     // I32
      case 27 -> new long[] {1, 8};     // I64
      case 28 -> new long[] {1, 8};     // F64
      case 30 -> new long[] {1, 2};     // BF16
      default -> null;
    };
    if (t == null || rowElements % t[0] != 0) {
      return -1;
    }
    return multiply(elements / t[0], t[1]);
  }

  private static long multiply(long a, long b) throws ArithmeticException {
    try {
      return Math.multiplyExact(a, b);
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  private static long number(Object v, long def) {
    if (v instanceof Long l) {
      return l;
    }
    if (v instanceof Double d) {
      return d.longValue();
    }
    return def;
  }

  private static String printable(int magic) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < 4; i++) {
      int c = (magic >>> (8 * i)) & 0xff;
      sb.append(c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format(Locale.ROOT, "\\x%02x", c));
    }
    return sb.append('"').toString();
  }

  /** Bytes for people: {@code 1.1 MiB}. */
  public static String sizeText(long bytes) {
    if (bytes < 0) {
      return "unknown size";
    }
    if (bytes < 1024) {
      return bytes + " bytes";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = -1;
    do {
      v /= 1024;
      u++;
    } while (v >= 1024 && u < units.length - 1);
    return String.format(Locale.ROOT, v >= 100 ? "%.0f %s" : "%.1f %s", v, units[u]);
  }

  static String humanCount(long n) {
    if (n >= 1_000_000_000L) {
      return String.format(Locale.ROOT, "%.1fB", n / 1e9);
    }
    if (n >= 1_000_000L) {
      return String.format(Locale.ROOT, "%.1fM", n / 1e6);
    }
    if (n >= 1_000L) {
      return String.format(Locale.ROOT, "%.1fk", n / 1e3);
    }
    return Long.toString(n);
  }
}
