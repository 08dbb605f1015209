package dev.llmgw.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Test;

class TokenCountTest {
  static final Encoding CL100K = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);

  /** The encoding, recording every text it is asked to count. */
  static Encoding recording(List<String> asked) {
    return (Encoding) Proxy.newProxyInstance(Encoding.class.getClassLoader(), new Class<?>[] {Encoding.class},
        (proxy, method, args) -> {
          if (method.getName().equals("countTokensOrdinary")) {
            asked.add((String) args[0]);
          }
          return method.invoke(CL100K, args);
        });
  }

  /** Sections of different densities (prose, code, JSON, CJK, digits) in a seeded random order. */
  static String mixed(int chars, long seed) {
    return mixed(chars, seed, 200);
  }

  static String mixed(int chars, long seed, int maxRepeats) {
    String[] kinds = {
        "The committee reviewed the quarterly figures and approved next year's budget after a long debate. ",
        "for (int i = 0; i < items.size(); i++) { total += items.get(i).price() * rate; }\n",
        "{\"id\":\"a1b2\",\"qty\":3,\"tags\":[\"x\",\"y\"],\"ok\":true,\"price\":12.75}\n",
        "東京の会議では来年度の予算について長い議論が行われた。",
        "4711 0815 2024-12-07 3.14159 271828 1000000 42 ",
    };
    Random r = new Random(seed);
    StringBuilder sb = new StringBuilder();
    while (sb.length() < chars) {
      String k = kinds[r.nextInt(kinds.length)];
      sb.append(k.repeat(5 + r.nextInt(maxRepeats)));
    }
    return sb.toString();
  }

  @Test
  void textsUpToTheLimitAreCountedExactly() {
    String text = mixed(TokenCount.EXACT_CHARS, 1).substring(0, TokenCount.EXACT_CHARS);
    assertThat(TokenCount.count(CL100K, text)).isEqualTo(CL100K.countTokensOrdinary(text));
    List<String> parts = List.of(text.substring(0, 1000), text.substring(1000, 20_000), text.substring(20_000));
    long separately = 0;
    for (String p : parts) {
      separately += CL100K.countTokensOrdinary(p);
    }
    assertThat(TokenCount.count(CL100K, parts)).isEqualTo(separately);
  }

  @Test
  void longTextsAreEstimatedWithinFivePercentFromBoundedWork() {
    for (long seed = 1; seed <= 12; seed++) {
      // long runs of one kind, then short ones (the harder case for windows spread evenly)
      String text = mixed(60_000 + (int) seed * 30_000, seed, seed <= 6 ? 200 : 20);
      List<String> asked = new ArrayList<>();
      long estimate = TokenCount.count(recording(asked), text);
      assertThat((double) estimate).as("seed %d", seed)
          .isCloseTo(CL100K.countTokensOrdinary(text), Percentage.withPercentage(5));
      assertThat(asked.stream().mapToInt(String::length).sum()).isLessThanOrEqualTo(TokenCount.EXACT_CHARS);
    }
  }

  @Test
  void manyMessagesTogetherAreBoundedToo() {
    List<String> messages = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      messages.add(mixed(10_000, i, 20).substring(0, 10_000)); // each under the limit, a million characters together
    }
    List<String> asked = new ArrayList<>();
    long estimate = TokenCount.count(recording(asked), messages);
    assertThat(asked.stream().mapToInt(String::length).sum()).isLessThanOrEqualTo(TokenCount.EXACT_CHARS);
    long exact = messages.stream().mapToLong(CL100K::countTokensOrdinary).sum();
    assertThat((double) estimate).isCloseTo(exact, Percentage.withPercentage(5));
  }

  @Test
  void windowsNeverSplitASurrogatePair() {
    String text = "🙂".repeat(40_000) + "x" + "🎉".repeat(40_000); // an odd char shifts every later pair
    List<String> asked = new ArrayList<>();
    TokenCount.count(recording(asked), text);
    assertThat(asked).hasSize(TokenCount.WINDOWS).allSatisfy(w -> {
      assertThat(Character.isLowSurrogate(w.charAt(0))).as("starts with half a pair").isFalse();
      assertThat(Character.isHighSurrogate(w.charAt(w.length() - 1))).as("ends with half a pair").isFalse();
    });
  }
}
