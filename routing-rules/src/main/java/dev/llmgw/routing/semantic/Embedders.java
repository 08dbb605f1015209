package dev.llmgw.routing.semantic;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * The embedding models of this process: loaded once (an ONNX session costs about a second and tens
 * of megabytes) and shared by every policy that names them, so a reload that keeps the model keeps
 * its session. Each model has a bounded cache of vectors by text: example files re-read on reload,
 * and the earlier turns of a conversation that come back with every request, are embedded once.
 *
 * <p>Two kinds: the built-in {@value #BUILTIN} (all-MiniLM-L6-v2, quantized, English) and {@value #BGE}
 * (bge-small-en-v1.5, quantized, English; about three times slower, used as a second opinion), both
 * shipped inside LangChain4j artifacts, nothing to download; or an operator's own ONNX model with its
 * HuggingFace {@code tokenizer.json} (for example a multilingual sentence-transformer exported to
 * ONNX), with mean or CLS pooling.
 */
public final class Embedders {

  /** The built-in model's name in {@code routing.yaml}. */
  public static final String BUILTIN = "all-minilm-l6-v2-q";
  /**
   * Bytes of vectors and their texts kept per model (a 384-float vector is 1.5 KiB, its text up to
   * 2 KiB): the shipped examples take about 3 MiB, the rest holds recent requests' segments.
   */
  static final long CACHED_BYTES = 32L << 20;
  /** Characters of one text that are embedded; the model reads about 256 tokens anyway. */
  public static final int MAX_CHARS = 1_000;

  /** Runs a batch on the calling thread: the gateway's own classifier executor bounds the work. */
  private static final Executor SAME_THREAD = Runnable::run;
  private static final Map<String, Embedder> LOADED = new ConcurrentHashMap<>();

  private Embedders() {}

  /** Why a model could not be loaded, phrased for the operator. */
  public static final class LoadException extends Exception {
    public LoadException(String message) {
      super(message);
    }
  }

  /** The built-in models: name, model file and tokenizer (resources of their jars), pooling. */
  private record Builtin(String onnx, String tokenizer, PoolingMode pooling) {}

  /** The built-in second opinion's name in {@code routing.yaml} (bge-small-en-v1.5, quantized). */
  public static final String BGE = "bge-small-en-v15-q";

  private static final Map<String, Builtin> BUILTINS = Map.of(
      BUILTIN, new Builtin("/all-minilm-l6-v2-q.onnx", "/all-minilm-l6-v2-q-tokenizer.json",
          PoolingMode.MEAN),
      BGE, new Builtin("/bge-small-en-v1.5-q.onnx", "/bge-small-en-v1.5-q-tokenizer.json",
          PoolingMode.CLS));

  /** The names of the built-in models, sorted. */
  public static List<String> builtins() {
    return BUILTINS.keySet().stream().sorted().toList();
  }

  /** A built-in model. */
  public static Embedder builtin(String name) throws LoadException {
    Builtin b = BUILTINS.get(name);
    if (b == null) {
      throw new LoadException("'" + name + "' is not a built-in model (expected one of "
          + String.join(", ", builtins()) + ", or onnx and tokenizer files of your own)");
    }
    try {
      return LOADED.computeIfAbsent(name, n -> {
        Class<?> jar = AllMiniLmL6V2QuantizedEmbeddingModel.class;
        try (InputStream model = jar.getResourceAsStream(b.onnx());
            InputStream tokenizer = jar.getResourceAsStream(b.tokenizer())) {
          if (model == null || tokenizer == null) {
            throw new IllegalStateException("the model files " + b.onnx() + " and " + b.tokenizer()
                + " are missing from the class path");
          }
          return new Cached(n, new SingleThreaded(model.readAllBytes(), tokenizer, b.pooling()));
        } catch (IOException | OrtException e) {
          throw new IllegalStateException(e);
        }
      });
    } catch (RuntimeException | LinkageError e) {
      throw new LoadException("cannot load the built-in model " + name + ": " + e);
    }
  }

  /**
   * An operator's ONNX model.
   *
   * @param pooling {@code mean} or {@code cls}
   */
  public static Embedder onnx(Path model, Path tokenizer, String pooling) throws LoadException {
    PoolingMode mode;
    try {
      mode = PoolingMode.valueOf(pooling.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new LoadException("pooling '" + pooling + "' is not known (expected mean or cls)");
    }
    for (Path p : List.of(model, tokenizer)) {
      if (!Files.isRegularFile(p)) {
        throw new LoadException(p + ": file not found");
      }
      if (!Files.isReadable(p)) {
        throw new LoadException(p + ": cannot be read");
      }
    }
    String key;
    try {
      key = model.toRealPath() + "|" + Files.getLastModifiedTime(model).toMillis() + "|"
          + tokenizer.toRealPath() + "|" + Files.getLastModifiedTime(tokenizer).toMillis() + "|"
          + mode;
    } catch (IOException e) {
      throw new LoadException(model + ": cannot be read: " + e.getMessage());
    }
    Embedder loaded = LOADED.get(key);
    if (loaded != null) {
      return loaded;
    }
    Embedder fresh;
    try {
      try (InputStream tok = Files.newInputStream(tokenizer)) {
        fresh = new Cached(model.getFileName().toString(),
            new SingleThreaded(Files.readAllBytes(model), tok, mode));
      }
      fresh.embed("warm up"); // a model that loads but cannot run is refused here, not per request
    } catch (RuntimeException | LinkageError | IOException | OrtException e) {
      throw new LoadException(model + ": not a usable ONNX sentence-embedding model with "
          + tokenizer.getFileName() + " (" + rootMessage(e) + ")");
    }
    Embedder raced = LOADED.putIfAbsent(key, fresh);
    return raced == null ? fresh : raced;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
  }

  /** Scales {@code v} to unit length in place. */
  static float[] normalize(float[] v) {
    double sum = 0;
    for (float x : v) {
      sum += x * x;
    }
    if (sum > 0) {
      float inv = (float) (1 / Math.sqrt(sum));
      for (int i = 0; i < v.length; i++) {
        v[i] *= inv;
      }
    }
    return v;
  }

  /**
   * A LangChain4j in-process model whose ONNX session computes on the calling thread only (one
   * intra-op and one inter-op thread): ONNX Runtime's default spreads one small inference over every
   * core, which on a gateway competes with the event loops for little gain; the classifier's own
   * pool decides how many embeddings run at once.
   */
  private static final class SingleThreaded extends AbstractInProcessEmbeddingModel {
    private final OnnxBertBiEncoder encoder;

    SingleThreaded(byte[] model, InputStream tokenizer, PoolingMode pooling) throws OrtException {
      super(SAME_THREAD);
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
        options.setIntraOpNumThreads(1);
        options.setInterOpNumThreads(1);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        this.encoder = new OnnxBertBiEncoder(env, env.createSession(model, options), tokenizer,
            pooling);
      }
    }

    @Override
    protected OnnxBertBiEncoder model() {
      return encoder;
    }
  }

  /** A LangChain4j model with a vector cache. */
  private static final class Cached implements Embedder {
    private final String id;
    private final AbstractInProcessEmbeddingModel model;
    private final Cache<String, float[]> cache = Caffeine.newBuilder().maximumWeight(CACHED_BYTES)
        .<String, float[]>weigher((text, vector) -> 64 + 2 * text.length() + 4 * vector.length)
        .build();

    Cached(String id, AbstractInProcessEmbeddingModel model) {
      this.id = id;
      this.model = model;
    }

    @Override
    public String id() {
      return id;
    }

    @Override
    public float[] embed(String text) {
      String t = text.length() > MAX_CHARS ? text.substring(0, MAX_CHARS) : text;
      return cache.get(t, s -> normalize(model.embed(s.isBlank() ? "(empty)" : s).content().vector()));
    }
  }
}
