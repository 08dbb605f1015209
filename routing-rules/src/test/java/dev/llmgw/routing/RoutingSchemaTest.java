package dev.llmgw.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.llmgw.routing.raw.ClassifierYaml;
import dev.llmgw.routing.raw.ConditionYaml;
import dev.llmgw.routing.raw.ForceTierYaml;
import dev.llmgw.routing.raw.HeaderYaml;
import dev.llmgw.routing.raw.IdentityYaml;
import dev.llmgw.routing.raw.JudgeYaml;
import dev.llmgw.routing.raw.MetadataYaml;
import dev.llmgw.routing.raw.ModelsYaml;
import dev.llmgw.routing.raw.RangeYaml;
import dev.llmgw.routing.raw.RoutingYaml;
import dev.llmgw.routing.raw.RuleYaml;
import dev.llmgw.routing.raw.SecondOpinionYaml;
import dev.llmgw.routing.raw.SemanticConditionYaml;
import dev.llmgw.routing.raw.SemanticYaml;
import dev.llmgw.routing.raw.TextYaml;
import dev.llmgw.routing.raw.TierYaml;
import dev.llmgw.routing.raw.UserYaml;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * config/routing.schema.json (for editors) is a valid 2020-12 schema, accepts the shipped policy, the
 * golden policy and every example of the docs, rejects broken files, and has exactly the keys of the
 * raw records (which are what the gateway binds).
 */
class RoutingSchemaTest {

  static final Path SCHEMA = Path.of("..", "config", "routing.schema.json");
  static final SchemaRegistry REGISTRY =
      SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
  static Schema schema;
  static JsonNode schemaTree;

  @BeforeAll
  static void loadSchema() throws Exception {
    try (InputStream in = Files.newInputStream(SCHEMA)) {
      schema = REGISTRY.getSchema(in, InputFormat.JSON);
    }
    schemaTree = EvalSet.JSON.readTree(SCHEMA.toFile());
  }

  static List<Error> validate(String yaml) {
    return schema.validate(RoutingYamlReader.tree(yaml).toString(), InputFormat.JSON);
  }

  @Test
  void theSchemaIsAValidDraft202012Schema() throws Exception {
    Schema meta = REGISTRY.getSchema(
        SchemaLocation.of(SpecificationVersion.DRAFT_2020_12.getDialectId()));
    assertThat(meta.validate(Files.readString(SCHEMA), InputFormat.JSON)).isEmpty();
  }

  @Test
  void theShippedPolicyValidates() throws Exception {
    assertThat(validate(Files.readString(RoutingYamlReader.SHIPPED_POLICY))).isEmpty();
  }

  @Test
  void theGoldenPolicyValidates() {
    assertThat(validate(GoldenTest.resource("golden-policy.yaml"))).isEmpty();
  }

  @Test
  void theDocsExamplesValidate() {
    DocExamples doc = DocExamples.load();
    doc.examples.forEach((name, yaml) -> assertThat(validate(yaml)).as(name).isEmpty());
    doc.conditions.forEach(c -> assertThat(validate(DocExamples.policyWith(c))).as(c).isEmpty());
  }

  @Test
  void brokenFilesAreRejected() {
    String head = "defaultTier: t\ntiers:\n  t: {targets: [local]}\n";
    assertThat(validate("tiers: {t: {targets: [local]}}\n")).isNotEmpty();
    assertThat(validate(head + "rules:\n  - {name: r, tier: t, when: {tools: true, images: true}}"))
        .isNotEmpty();
    assertThat(validate(head + "rules:\n  - {name: r, tier: t, when: {header: {name: x, "
        + "equals: a, regex: b}}}")).isNotEmpty();
    assertThat(validate(head + "rules:\n  - {name: r, tier: t, when: {header: {name: x, "
        + "equal: a}}}")).isNotEmpty();
    assertThat(validate(head + "rules:\n  - {name: r, tier: t, when: {promptTokens: "
        + "{gt: 1, gte: 2}}}")).isNotEmpty();
    assertThat(validate(head + "rules:\n  - {name: default, tier: t, when: {tools: true}}"))
        .isNotEmpty();
    assertThat(validate(head + "rules:\n  - {name: r, tier: t, when: {lastUserMessage: "
        + "{keywords: ['ta*x']}}}")).isNotEmpty();
    assertThat(validate(head + "unknown: 1\n")).isNotEmpty();
  }

  @Test
  void theSchemaHasExactlyTheKeysOfTheRawRecords() {
    JsonNode defs = schemaTree.get("$defs");
    JsonNode condition = defs.get("condition").get("properties");
    JsonNode classifier = schemaTree.get("properties").get("classifier").get("properties");
    Map<Class<?>, JsonNode> shapes = Map.ofEntries(
        Map.entry(RoutingYaml.class, schemaTree.get("properties")),
        Map.entry(TierYaml.class, defs.get("tier").get("properties")),
        Map.entry(ModelsYaml.class, schemaTree.get("properties").get("models").get("properties")),
        Map.entry(ForceTierYaml.class,
            schemaTree.get("properties").get("forceTier").get("properties")),
        Map.entry(RuleYaml.class, defs.get("rule").get("properties")),
        Map.entry(ConditionYaml.class, condition),
        Map.entry(UserYaml.class, condition.get("user").get("properties")),
        Map.entry(IdentityYaml.class, defs.get("identity").get("properties")),
        Map.entry(RangeYaml.class, defs.get("integerRange").get("properties")),
        Map.entry(TextYaml.class, defs.get("text").get("properties")),
        Map.entry(ClassifierYaml.class, classifier),
        Map.entry(SemanticYaml.class, classifier.get("semantic").get("properties")),
        Map.entry(SecondOpinionYaml.class,
            classifier.get("semantic").get("properties").get("secondOpinion").get("properties")),
        Map.entry(JudgeYaml.class, classifier.get("judge").get("properties")),
        Map.entry(SemanticConditionYaml.class, condition.get("semantic").get("properties")));
    shapes.forEach((type, properties) ->
        assertThat(names(properties)).as(type.getSimpleName()).isEqualTo(components(type)));
    Set<String> valueTest = names(defs.get("valueTest").get("properties"));
    Set<String> header = new TreeSet<>(valueTest);
    header.add("name");
    Set<String> metadata = new TreeSet<>(valueTest);
    metadata.add("key");
    assertThat(header).isEqualTo(components(HeaderYaml.class));
    assertThat(metadata).isEqualTo(components(MetadataYaml.class));
    assertThat(names(defs.get("numberRange").get("properties")))
        .isEqualTo(components(RangeYaml.class));
  }

  private static Set<String> names(JsonNode properties) {
    List<String> out = new ArrayList<>();
    properties.fieldNames().forEachRemaining(out::add);
    return new TreeSet<>(out);
  }

  private static Set<String> components(Class<?> record) {
    return new TreeSet<>(Arrays.stream(record.getRecordComponents()).map(c -> c.getName())
        .toList());
  }
}
