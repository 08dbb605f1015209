package dev.llmgw.routing.semantic;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The example vectors of one policy, and the nearest-neighbour score of a request against them.
 * Immutable and thread-safe; built off the request path (at load and reload), where every example
 * is embedded once (the embedder caches vectors by text, so a reload re-embeds only new lines).
 *
 * <p>Score of a tier for one text: the mean cosine similarity of the {@code k} examples of that
 * tier nearest to it (k-NN with a per-tier mean, so a tier with more examples gets no advantage from
 * its size). A request has several text segments (the last user message, earlier user turns, the
 * system prompt, tool calls and tools), each scored on its own; a condition matches when one segment
 * qualifies, so stakes set up in an earlier turn are not diluted by an innocuous follow-up, and a
 * generic system prompt does not lower the lead of a pointed question.
 *
 * <p>An optional second model gives a second opinion on requests the first one leaves close to a
 * rule's threshold ({@link #refine}): the same examples are embedded with it too, its scores are put
 * on the first model's scale by a linear map fitted when the index is built (the two models' scores
 * of every example against the others, leave-one-out, given the same mean and spread), and the
 * request's scores become the mean of the two. No rule threshold changes with it, and nothing but
 * the examples is used to fit the map.
 */
public final class SemanticIndex {

  /** Nearest examples kept for {@code explain}. */
  static final int NEAREST = 3;

  private final Embedder embedder;
  private final List<String> tiers;
  private final int k;
  private final float[][][] vectors;
  private final Example[][] examples;
  private final Second second;

  /**
   * The second opinion: its model, the examples' vectors by it, the map of its scores onto the first
   * model's scale ({@code scale * score + shift}), and how close to a threshold a condition must be to
   * ask for it.
   */
  private record Second(Embedder embedder, float[][][] vectors, double scale, double shift,
      double band) {}

  /**
   * @param tiers    the policy's tiers, in order
   * @param examples every example (each of a tier in {@code tiers})
   * @param k        neighbours averaged per tier (at least 1)
   */
  public SemanticIndex(Embedder embedder, List<String> tiers, List<Example> examples, int k) {
    this(embedder, tiers, examples, k, null, 0);
  }

  /**
   * @param second a second model for requests close to a threshold, or {@code null}
   * @param band   how close (in score or lead) a condition must be to its threshold to ask for the
   *               second model, when there is one
   */
  public SemanticIndex(Embedder embedder, List<String> tiers, List<Example> examples, int k,
      Embedder second, double band) {
    this.embedder = embedder;
    this.tiers = List.copyOf(tiers);
    this.k = k;
    this.examples = new Example[tiers.size()][];
    for (int t = 0; t < tiers.size(); t++) {
      String tier = tiers.get(t);
      this.examples[t] = examples.stream().filter(e -> e.tier().equals(tier)).toArray(Example[]::new);
    }
    this.vectors = embed(embedder, this.examples);
    if (second == null) {
      this.second = null;
    } else {
      float[][][] v2 = embed(second, this.examples);
      double[] a = leaveOneOut(vectors, k);
      double[] b = leaveOneOut(v2, k);
      double scale = std(a) / std(b);
      if (!(scale > 0) || Double.isInfinite(scale)) {
        throw new IllegalStateException("the second model scores every example alike");
      }
      this.second = new Second(second, v2, scale, mean(a) - scale * mean(b), band);
    }
  }

  /** Every example's vector by {@code model}, per tier (off the request path, on every core). */
  private static float[][][] embed(Embedder model, Example[][] examples) {
    float[][][] out = new float[examples.length][][];
    for (int t = 0; t < examples.length; t++) {
      Example[] of = examples[t];
      float[][] vs = new float[of.length][];
      // at load and reload, off the request path: every core helps (a few seconds for the shipped
      // examples on one core; a reload re-embeds only texts the embedder's cache does not hold)
      java.util.stream.IntStream.range(0, vs.length).parallel()
          .forEach(i -> vs[i] = model.embed(of[i].text()));
      out[t] = vs;
    }
    return out;
  }

  /**
   * Every example's score for every tier, the example itself left out (so its own tier's score is
   * missing when it is that tier's only example): what the second model's map is fitted on.
   */
  private static double[] leaveOneOut(float[][][] vectors, int k) {
    int tiers = vectors.length;
    List<float[]> all = new ArrayList<>();
    for (float[][] tier : vectors) {
      all.addAll(Arrays.asList(tier));
    }
    double[][] out = new double[all.size()][];
    java.util.stream.IntStream.range(0, all.size()).parallel().forEach(i -> {
      float[] q = all.get(i);
      double[] row = new double[tiers];
      for (int t = 0; t < tiers; t++) {
        row[t] = knn(q, vectors[t], k, q);
      }
      out[i] = row;
    });
    return Arrays.stream(out).flatMapToDouble(Arrays::stream).filter(v -> !Double.isNaN(v))
        .toArray();
  }

  /**
   * The mean similarity of the {@code k} vectors nearest {@code q}, {@code skip} left out (the same
   * instance: the embedder's cache gives one text's copies one vector).
   */
  private static double knn(float[] q, float[][] vs, int k, float[] skip) {
    int n = 0;
    for (float[] v : vs) {
      n += v != skip ? 1 : 0;
    }
    if (n == 0) {
      return Double.NaN;
    }
    double[] top = new double[Math.min(k, n)];
    Arrays.fill(top, Double.NEGATIVE_INFINITY);
    for (float[] v : vs) {
      if (v != skip) {
        insert(top, dot(q, v));
      }
    }
    double sum = 0;
    for (double v : top) {
      sum += v;
    }
    return sum / top.length;
  }

  private static void insert(double[] top, double sim) {
    if (sim > top[top.length - 1]) {
      int j = top.length - 1;
      while (j > 0 && top[j - 1] < sim) {
        top[j] = top[j - 1];
        j--;
      }
      top[j] = sim;
    }
  }

  private static double mean(double[] xs) {
    double sum = 0;
    for (double x : xs) {
      sum += x;
    }
    return sum / xs.length;
  }

  private static double std(double[] xs) {
    double m = mean(xs);
    double sum = 0;
    for (double x : xs) {
      sum += (x - m) * (x - m);
    }
    return Math.sqrt(sum / xs.length);
  }

  public Embedder embedder() {
    return embedder;
  }

  public int k() {
    return k;
  }

  /** The example files the examples came from (the reloader watches them). */
  public List<java.nio.file.Path> files() {
    java.util.Set<java.nio.file.Path> out = new java.util.LinkedHashSet<>();
    for (Example[] tier : examples) {
      for (Example e : tier) {
        out.add(e.file());
      }
    }
    return List.copyOf(out);
  }

  /** Examples per tier, in tier order. */
  public int[] counts() {
    int[] c = new int[tiers.size()];
    for (int t = 0; t < c.length; t++) {
      c[t] = examples[t].length;
    }
    return c;
  }

  /** The second model, or {@code null} when none is configured. */
  public Embedder second() {
    return second == null ? null : second.embedder();
  }

  /** How close to a threshold asks for the second model (0 when there is none). */
  public double band() {
    return second == null ? 0 : second.band();
  }

  /**
   * The second model's map onto the first model's scale: {@code {scale, shift}}, or {@code null}
   * when there is no second model.
   */
  public double[] calibration() {
    return second == null ? null : new double[] {second.scale(), second.shift()};
  }

  /**
   * Scores the request's text segments (embedding each: milliseconds of CPU; never on an event
   * loop). A tier without examples scores NaN.
   */
  public SemanticScores score(List<String> segments) {
    double[][] perSegment = new double[segments.size()][tiers.size()];
    List<SemanticScores.Neighbour> nearest = new ArrayList<>();
    for (int s = 0; s < segments.size(); s++) {
      float[] q = embedder.embed(segments.get(s));
      for (int t = 0; t < tiers.size(); t++) {
        float[][] vs = vectors[t];
        if (vs.length == 0) {
          perSegment[s][t] = Double.NaN;
          continue;
        }
        double[] top = new double[Math.min(k, vs.length)];
        Arrays.fill(top, Double.NEGATIVE_INFINITY);
        for (int i = 0; i < vs.length; i++) {
          double sim = dot(q, vs[i]);
          insert(top, sim);
          keepNearest(nearest, sim, examples[t][i], s);
        }
        perSegment[s][t] = mean(top);
      }
    }
    return new SemanticScores(tiers, perSegment, List.copyOf(nearest),
        second == null ? 0 : second.band(), false);
  }

  /**
   * The second opinion on scores of {@link #score}: the segments embedded with the second model, its
   * scores mapped onto the first model's scale, and each the mean of the two. Returns {@code first}
   * when there is no second model or it was already asked.
   */
  public SemanticScores refine(SemanticScores first, List<String> segments) {
    if (second == null || first.refined()) {
      return first;
    }
    double[][] mixed = new double[segments.size()][tiers.size()];
    for (int s = 0; s < segments.size(); s++) {
      float[] q = second.embedder().embed(segments.get(s));
      for (int t = 0; t < tiers.size(); t++) {
        double own = knn(q, second.vectors()[t], k, null);
        mixed[s][t] = (first.perSegment()[s][t] + second.scale() * own + second.shift()) / 2;
      }
    }
    return new SemanticScores(tiers, mixed, first.nearest(), 0, true);
  }

  private static void keepNearest(List<SemanticScores.Neighbour> nearest, double sim, Example e,
      int segment) {
    if (nearest.size() == NEAREST && nearest.get(NEAREST - 1).similarity() >= sim) {
      return;
    }
    nearest.add(new SemanticScores.Neighbour(sim, e, segment));
    nearest.sort(Comparator.comparingDouble(SemanticScores.Neighbour::similarity).reversed());
    if (nearest.size() > NEAREST) {
      nearest.remove(NEAREST);
    }
  }

  /**
   * The dot product in eight independent sums: one running sum waits on its previous addition at
   * every element, eight keep the core's adders busy (a request's scores over the shipped examples:
   * ~0.6 ms with one sum, ~0.26 ms with eight, on one core).
   */
  static double dot(float[] a, float[] b) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    double s4 = 0;
    double s5 = 0;
    double s6 = 0;
    double s7 = 0;
    int n = a.length;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
      s0 += a[i] * b[i];
      s1 += a[i + 1] * b[i + 1];
      s2 += a[i + 2] * b[i + 2];
      s3 += a[i + 3] * b[i + 3];
      s4 += a[i + 4] * b[i + 4];
      s5 += a[i + 5] * b[i + 5];
      s6 += a[i + 6] * b[i + 6];
      s7 += a[i + 7] * b[i + 7];
    }
    for (; i < n; i++) {
      s0 += a[i] * b[i];
    }
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  }
}
