package dev.llmgw.routing;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The package rules of routing-rules (issue 14), on the compiled classes. The enforcer already keeps
 * Netty off this module's classpath; the first rule guards the classes themselves (a shaded or
 * vendored copy would pass the enforcer).
 */
@AnalyzeClasses(packages = "dev.llmgw.routing", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  /** The routing model is pure Java: it decides on event loops but knows nothing of them. */
  @ArchTest
  static final ArchRule noNetty = noClasses().should().dependOnClassesThat().resideInAPackage("io.netty..")
      .because("routing-rules is pure Java (docs/architecture.md); gateway-core owns the I/O");

  /** The records routing.yaml binds to are plain data: the JDK and each other, nothing else. */
  @ArchTest
  static final ArchRule rawIsPlainData = classes().that().resideInAPackage("dev.llmgw.routing.raw..")
      .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "dev.llmgw.routing.raw..");

  /** ONNX Runtime and LangChain4j (the embedding runtime) are the semantic package's alone. */
  @ArchTest
  static final ArchRule embeddingRuntimeOnlyInSemantic = noClasses().that()
      .resideOutsideOfPackage("dev.llmgw.routing.semantic..")
      .should().dependOnClassesThat().resideInAnyPackage("ai.onnxruntime..", "dev.langchain4j..");

  /**
   * The semantic package (embeddings, examples, the index) sits below the rules that use it. One
   * known back-edge: {@code ExampleFiles} reports broken example lines as {@link RuleProblem}s (a
   * cycle between the two packages; the rule keeps it from growing).
   */
  @ArchTest
  static final ArchRule semanticDoesNotDependOnTheRules = noClasses().that()
      .resideInAPackage("dev.llmgw.routing.semantic..")
      .should().dependOnClassesThat(resideInAPackage("dev.llmgw.routing")
          .and(name(RuleProblem.class.getName()).negate()));
}
