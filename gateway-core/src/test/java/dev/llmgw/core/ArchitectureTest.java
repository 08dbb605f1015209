package dev.llmgw.core;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.nameMatching;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import java.util.regex.Pattern;

/**
 * The package rules of gateway-core (issue 14), checked on the compiled classes (bytecode: an unused
 * import leaves no trace and is no violation). Each package's {@code package-info.java} says what it
 * may depend on; these rules guard the parts that matter most. Module-level rules live elsewhere:
 * routing-rules has no Netty on its classpath at all (the enforcer bans it; its own ArchitectureTest
 * checks its classes), and gateway-core cannot see gateway-server (Maven refuses the cycle).
 */
@AnalyzeClasses(packages = "dev.llmgw.core", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
  private static final String CORE = "dev.llmgw.core.";

  /** The configuration model is plain data and its compilers: loadable and testable without Netty. */
  @ArchTest
  static final ArchRule configIsFreeOfNetty = noClasses().that().resideInAPackage(CORE + "config..")
      .should().dependOnClassesThat().resideInAPackage("io.netty..")
      .because("config is loaded off the event loops and must stay usable without Netty (validate, explain)");

  /**
   * Netty stays where bytes move: the exchange, the backend connections, header helpers, the usage tap
   * over response buffers, and failure classification (Netty's exception types). The request model,
   * routing, access, state, bookkeeping and metrics do not touch it.
   */
  @ArchTest
  static final ArchRule nettyOnlyWhereBytesMove = noClasses().that().resideOutsideOfPackages(CORE + "exchange..",
      CORE + "upstream..", CORE + "http..", CORE + "usage..", CORE + "resilience..")
      .should().dependOnClassesThat().resideInAPackage("io.netty..")
      .because("only the I/O side of the request path handles channels and buffers (see package-info)");

  /** Redis (Lettuce) and the state file (H2 MVStore) are the state store's business alone. */
  @ArchTest
  static final ArchRule storageDriversOnlyInState = noClasses().that().resideOutsideOfPackage(CORE + "state..")
      .should().dependOnClassesThat().resideInAnyPackage("io.lettuce..", "org.h2..")
      .because("every other package talks to the StateStore interface");

  /** The embedding runtime is routing-rules' semantic package's; core uses it through its interfaces. */
  @ArchTest
  static final ArchRule noEmbeddingRuntimeInCore = noClasses()
      .should().dependOnClassesThat().resideInAnyPackage("ai.onnxruntime..", "dev.langchain4j..")
      .because("dev.llmgw.routing.semantic owns the ONNX session (Embedder, Embedders)");

  /** Configuration is compiled before any request exists: it must not reach into the request path. */
  @ArchTest
  static final ArchRule configDoesNotDependOnTheRequestPath = noClasses().that().resideInAPackage(CORE + "config..")
      .should().dependOnClassesThat().resideInAnyPackage(CORE + "exchange..", CORE + "upstream..", CORE + "http..",
          CORE + "usage..", CORE + "ingress..", CORE + "access..", CORE + "state..", CORE + "economics..",
          CORE + "log..", CORE + "metrics..", CORE + "resilience..");

  /** The records gateway.yaml binds to are plain data: the JDK and each other, nothing else. */
  @ArchTest
  static final ArchRule rawConfigIsPlainData = classes().that().resideInAPackage(CORE + "config.raw..")
      .should().onlyDependOnClassesThat().resideInAnyPackage("java..", CORE + "config.raw..");

  /**
   * No cycles between core's packages beyond the four known ones, each named below by the dependency
   * that closes it (remove an exception when its cycle is fixed; never add one without saying why).
   * ArchUnit reports the cycles of one tangle at a time, so a new cycle always fails this rule, but
   * fixing one may reveal another that was there all along.
   */
  @ArchTest
  static final ArchRule noNewCyclesBetweenCorePackages = slices().matching("dev.llmgw.core.(*)..")
      .should().beFreeOfCycles()
      // config <-> route: RoutingLoader builds route's ClassifierSettings (route reads config everywhere)
      .ignoreDependency(type(CORE + "config.RoutingLoader"), type(CORE + "route.ClassifierSettings"))
      // access <-> exchange: AccessControl words Retry-After with ClientResponses.retryAfterSeconds
      .ignoreDependency(type(CORE + "access.AccessControl"), type(CORE + "exchange.ClientResponses"))
      // access <-> state: the stores use access's algorithms (Budgets, RateLimits, TokenBucket)
      .ignoreDependency(resideInAPackage(CORE + "state.."), type(CORE + "access.Budgets")
          .or(type(CORE + "access.RateLimits")).or(type(CORE + "access.TokenBucket")))
      // access -> state -> economics -> exchange -> access: EconomicsRecorder listens to ExchangeEvents
      .ignoreDependency(resideInAPackage(CORE + "economics.."), type(CORE + "exchange.ExchangeEvents"));

  /** A class by name, with its nested classes (by name, so a rename elsewhere does not break the build). */
  private static DescribedPredicate<JavaClass> type(String name) {
    return nameMatching(Pattern.quote(name) + "(\\$.*)?").as(name).forSubtype();
  }
}
