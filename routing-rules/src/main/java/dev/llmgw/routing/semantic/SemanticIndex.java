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
 */
public final class SemanticIndex {

  /** Nearest examples kept for {@code explain}. */
  static final int NEAREST = 3;

  private final Embedder embedder;
  private final List<String> tiers;
  private final int k;
  private final float[][][] vectors;
  private final Example[][] examples;

  /**
   * @param tiers    the policy's tiers, in order
   * @param examples every example (each of a tier in {@code tiers})
   * @param k        neighbours averaged per tier (at least 1)
   */
  public SemanticIndex(Embedder embedder, List<String> tiers, List<Example> examples, int k) {
    this.embedder = embedder;
    this.tiers = List.copyOf(tiers);
    this.k = k;
    this.vectors = new float[tiers.size()][][];
    this.examples = new Example[tiers.size()][];
    for (int t = 0; t < tiers.size(); t++) {
      String tier = tiers.get(t);
      List<Example> of = examples.stream().filter(e -> e.tier().equals(tier)).toList();
      this.examples[t] = of.toArray(new Example[0]);
      float[][] vs = new float[of.size()][];
      // at load and reload, off the request path: every core helps (a few seconds for the shipped
      // examples on one core; a reload re-embeds only texts the embedder's cache does not hold)
      java.util.stream.IntStream.range(0, vs.length).parallel()
          .forEach(i -> vs[i] = embedder.embed(of.get(i).text()));
      this.vectors[t] = vs;
    }
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
          if (sim > top[top.length - 1]) {
            int j = top.length - 1;
            while (j > 0 && top[j - 1] < sim) {
              top[j] = top[j - 1];
              j--;
            }
            top[j] = sim;
          }
          keepNearest(nearest, sim, examples[t][i], s);
        }
        double mean = 0;
        for (double v : top) {
          mean += v;
        }
        perSegment[s][t] = mean / top.length;
      }
    }
    return new SemanticScores(tiers, perSegment, List.copyOf(nearest));
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

  private static double dot(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += a[i] * b[i];
    }
    return sum;
  }
}
