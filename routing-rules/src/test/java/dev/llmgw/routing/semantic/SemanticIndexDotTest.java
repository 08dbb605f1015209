package dev.llmgw.routing.semantic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SemanticIndexDotTest {

  @Test
  void theEightSumDotProductAgreesWithTheOneSumOneAtEveryLengthIncludingTheTail() {
    Random random = new Random(42);
    for (int n = 0; n <= 40; n++) {
      float[] a = new float[n];
      float[] b = new float[n];
      double expected = 0;
      for (int i = 0; i < n; i++) {
        a[i] = (float) random.nextGaussian();
        b[i] = (float) random.nextGaussian();
        expected += a[i] * b[i];
      }
      assertThat(SemanticIndex.dot(a, b)).as("length %d", n).isCloseTo(expected, within(1e-9));
    }
  }

  @Test
  void aUnitVectorWithItselfIsOne() {
    float[] v = Embedders.normalize(new float[] {3, 4, 0, 0, 0, 0, 0, 0, 0, 12});
    assertThat(SemanticIndex.dot(v, v)).isCloseTo(1.0, within(1e-6));
  }
}
