package dev.llmgw.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Keyword sets: case-insensitive whole words and phrases, trailing-star prefixes, one pass. */
class KeywordSetTest {

  static KeywordSet set(String... keywords) {
    return new KeywordSet(List.of(keywords));
  }

  @Test
  void matchesWholeWordsIgnoringCase() {
    KeywordSet k = set("tax", "lawyer");
    assertThat(k.containedIn("Ask a LAWYER.")).isTrue();
    assertThat(k.containedIn("tax")).isTrue();
    assertThat(k.containedIn("syntax taxes lawyers")).isFalse();
    assertThat(k.firstMatch("my Tax return")).isEqualTo("Tax");
  }

  @Test
  void aTrailingStarMatchesAnyWordEnding() {
    KeywordSet k = set("diagnos*");
    assertThat(k.firstMatch("she was diagnosed.")).isEqualTo("diagnosed");
    assertThat(k.containedIn("diagnos")).isTrue();
    assertThat(k.containedIn("undiagnosed")).isFalse();
  }

  @Test
  void aLeadingStarMatchesAnyWordBeginning() {
    KeywordSet k = set("*itis", "*emia");
    assertThat(k.firstMatch("acute Appendicitis, no")).isEqualTo("Appendicitis");
    assertThat(k.firstMatch("itis")).isEqualTo("itis");
    assertThat(k.firstMatch("anemia")).isEqualTo("anemia");
    assertThat(k.containedIn("itises emiah")).isFalse();
  }

  @Test
  void prefixSuffixAndWholeKeywordsTogether() {
    KeywordSet k = set("*itis", "arthr*", "knee");
    assertThat(k.firstMatch("my knee")).isEqualTo("knee");
    assertThat(k.firstMatch("arthroscopy")).isEqualTo("arthroscopy");
    assertThat(k.firstMatch("bursitis")).isEqualTo("bursitis");
    assertThat(k.containedIn("kneecap")).isFalse();
  }

  @Test
  void phrasesMatchAcrossAnyWhitespace() {
    KeywordSet k = set("side  effect");
    assertThat(k.containedIn("a side\n\t effect of")).isTrue();
    assertThat(k.containedIn("side effects")).isFalse();
    assertThat(k.containedIn("sideeffect")).isFalse();
  }

  @Test
  void keywordsWithPunctuation() {
    KeywordSet k = set("c++", "401(k)", "10-k", "rm -rf");
    assertThat(k.firstMatch("learning C++ now")).isEqualTo("C++");
    assertThat(k.containedIn("my 401(k).")).isTrue();
    assertThat(k.containedIn("the 10-K filing")).isTrue();
    assertThat(k.containedIn("sudo rm -rf /")).isTrue();
    assertThat(k.containedIn("abc++ 1401(k) 10-kb")).isFalse();
  }

  @Test
  void aLongerKeywordSharingAPrefixStillMatches() {
    KeywordSet k = set("tax", "taxes", "tax return");
    assertThat(k.firstMatch("taxes are due")).isEqualTo("taxes");
    assertThat(k.firstMatch("file a tax return")).isEqualTo("tax");
    assertThat(k.firstMatch("taxi")).isNull();
  }

  @Test
  void nonAsciiLettersAreWordCharacters() {
    KeywordSet k = set("médecin", "straße");
    assertThat(k.containedIn("un MÉDECIN ici")).isTrue();
    assertThat(k.containedIn("Straße")).isTrue();
    assertThat(k.containedIn("médecins")).isFalse();
  }

  @Test
  void emptyAndShortTexts() {
    KeywordSet k = set("a b");
    assertThat(k.containedIn("")).isFalse();
    assertThat(k.containedIn("a")).isFalse();
    assertThat(k.containedIn("a ")).isFalse();
    assertThat(k.containedIn("a b")).isTrue();
    assertThat(k.size()).isEqualTo(1);
  }
}
