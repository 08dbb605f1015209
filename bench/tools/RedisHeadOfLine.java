import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Why the response cache has its own Redis connection: the latency of a small command (PING, as the
 * state store's admission commands are small) sent right after a large cache write (PSETEX of SIZE
 * bytes, the default maxEntryBytes as stored), on the same Lettuce connection (the baseline: one
 * in-order connection for everything) and on a second one. Rounds alternate; prints p50/p99 per mode
 * and the ratio own/same. Run by bench/redis-hol.sh.
 */
public class RedisHeadOfLine {
  public static void main(String[] args) throws Exception {
    String url = args[0];
    int size = Integer.parseInt(args.length > 1 ? args[1] : "2700000");
    int rounds = Integer.parseInt(args.length > 2 ? args[2] : "3");
    int samples = 200;
    RedisClient client = RedisClient.create(url);
    try (StatefulRedisConnection<String, String> state = client.connect();
        StatefulRedisConnection<String, String> cache = client.connect()) {
      String big = "x".repeat(size);
      double[][] p50 = new double[2][rounds];
      double[][] p99 = new double[2][rounds];
      for (int r = 0; r < rounds; r++) {
        for (int mode = 0; mode < 2; mode++) {
          RedisAsyncCommands<String, String> bulk = mode == 0 ? state.async() : cache.async();
          List<Double> lat = new ArrayList<>();
          for (int i = 0; i < samples; i++) {
            RedisFuture<String> write = bulk.psetex("hol:" + (i % 4), 60_000, big);
            long t0 = System.nanoTime();
            state.async().ping().get(5, TimeUnit.SECONDS);
            lat.add((System.nanoTime() - t0) / 1e6);
            write.get(5, TimeUnit.SECONDS);
          }
          Collections.sort(lat);
          p50[mode][r] = lat.get(samples / 2);
          p99[mode][r] = lat.get(samples * 99 / 100 - 1);
          System.out.printf("round %d %-15s PING after a %,d-byte PSETEX: p50 %.3f ms  p99 %.3f ms%n", r + 1,
              mode == 0 ? "same connection" : "own connection", size, p50[mode][r], p99[mode][r]);
        }
      }
      double s50 = median(p50[0]), o50 = median(p50[1]), s99 = median(p99[0]), o99 = median(p99[1]);
      System.out.printf("median of %d rounds: same connection p50 %.3f / p99 %.3f ms; own connection p50 %.3f / p99"
          + " %.3f ms; own/same p50 %.2f, p99 %.2f%n", rounds, s50, s99, o50, o99, o50 / s50, o99 / s99);
    } finally {
      client.shutdown();
    }
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    java.util.Arrays.sort(s);
    return s[s.length / 2];
  }
}
