package dev.llmgw.server.conformance;

import static org.assertj.core.api.Assertions.fail;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.dialect.Dialects;
import com.networknt.schema.i18n.DefaultMessageSource;
import com.networknt.schema.i18n.ResourceBundleMessageSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.MissingResourceException;
import java.util.ResourceBundle;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Test-only conformance checker: validates JSON bodies produced by the gateway against the component schemas of the
 * official OpenAI OpenAPI document ({@code shared/openai/openapi.json}, OpenAPI 3.1).
 *
 * <h2>Usage</h2>
 * <pre>{@code
 * OpenAiSchemas.assertValid("CreateChatCompletionResponse", responseBody);
 * OpenAiSchemas.assertSseStreamValid("CreateChatCompletionStreamResponse", sseBody);
 * List<String> problems = OpenAiSchemas.errors("ErrorResponse", body);   // empty list = valid
 * }</pre>
 * Schema names are the keys of {@code components.schemas} in the spec, e.g. {@link #CHAT_COMPLETION_RESPONSE},
 * {@link #CHAT_COMPLETION_CHUNK}, {@link #COMPLETION_RESPONSE}, {@link #EMBEDDING_RESPONSE},
 * {@link #LIST_MODELS_RESPONSE}, {@link #ERROR_RESPONSE}. An unknown name is an {@link IllegalArgumentException}.
 *
 * <h2>Loading</h2>
 * The spec is read, rewritten and handed to the validator once per JVM, lazily, on the first call (about 0.5-1 s,
 * measured and available via {@link #loadMillis()}). Compiled schemas are cached per name; all methods are thread-safe.
 * The spec is located at {@code <user.dir>/../../shared/openai/openapi.json} (surefire's working directory is the
 * {@code gateway-server} module, so that is {@code shared/} beside the repository checkout); if that does not exist,
 * the ancestors of {@code user.dir} are searched for {@code shared/openai/openapi.json} (handy when an IDE runs tests
 * from the repository root). System property {@code openai.spec} overrides both.
 *
 * <h2>Rewrites applied to the spec before validation</h2>
 * The document declares OpenAPI 3.1 (JSON Schema 2020-12) but still carries OpenAPI 3.0 {@code nullable} keywords,
 * which 3.1 ignores; left alone, e.g. a stream chunk with {@code "finish_reason": null} or {@code "usage": null}
 * would be rejected. Every schema node with a boolean {@code nullable} is rewritten:
 * <ul>
 *   <li>{@code nullable: true} with a {@code type} and no composition keyword: {@code type: T} becomes
 *       {@code type: [T, "null"]}, and {@code null} is appended to its {@code enum} if it has one;</li>
 *   <li>{@code nullable: true} without a {@code type}, or next to {@code $ref}/{@code allOf}/{@code anyOf}/
 *       {@code oneOf}/{@code not}/{@code const}/{@code if}: the node becomes
 *       {@code anyOf: [ {original minus nullable}, {"type": "null"} ]};</li>
 *   <li>{@code nullable: false} is simply dropped.</li>
 * </ul>
 * Data-valued keywords ({@code example(s)}, {@code default}, {@code const}, {@code enum}) are not descended into;
 * members of name maps such as {@code properties} are always treated as schemas (a property <em>named</em>
 * {@code nullable} is left alone).
 * <p>
 * Two further rewrites, neither of which changes what a conformant body is:
 * <ul>
 *   <li><b>{@code discriminator} keywords are removed</b> (107 of them). None has a {@code mapping}, so the implicit
 *       mapping applies: value {@code "function"} would mean component schema {@code "function"}, which does not
 *       exist (the branch is {@code ChatCompletionMessageToolCall}). The validator's OpenAPI 3.1 dialect enforces
 *       discriminators, so without this every valid {@code tool_calls} entry failed with
 *       {@code discriminator.oneOf.no_match_found}. OpenAPI 3.1 defines the discriminator as a hint that must not
 *       change the validation outcome; the {@code oneOf}/{@code anyOf} beside it is still fully enforced (the
 *       branches pin {@code type} with single-value enums, so e.g. a tool call of type {@code "retrieval"} still
 *       fails).</li>
 *   <li>{@code x-*} vendor extensions ({@code x-oaiMeta}, {@code x-stainless-const}, ...) are removed: they are
 *       annotations only, and the validator would log an "Unknown keyword" warning for each.</li>
 * </ul>
 * <p>
 * Error messages are rendered from the validator jar's own {@code jsv-messages} bundle (see
 * {@link OwnJarMessageSource}): {@code wiremock-standalone} on the same class path ships an older, incompatible copy
 * that otherwise garbles them ({@code "string: integer found, {2} expected"}).
 * <p>
 * {@code format} is an annotation only (2020-12 default): {@code "unixtime"}, {@code "uri"} etc. are not asserted.
 *
 * <h2>What callers should expect: the spec is strict about presence of nullable fields</h2>
 * The checker is deliberately not weakened. The spec marks some fields as <em>required but nullable</em>, so a body
 * that simply omits them is non-conformant even though most clients tolerate it. Notably for
 * {@code CreateChatCompletionResponse}:
 * <ul>
 *   <li>{@code choices[].logprobs} is required (may be {@code null});</li>
 *   <li>{@code choices[].message.refusal} and {@code choices[].message.content} are required (may be {@code null});</li>
 *   <li>{@code choices[].finish_reason} is required and must be one of the enum values;</li>
 *   <li>{@code ErrorResponse.error.param} and {@code .code} are required (may be {@code null}).</li>
 * </ul>
 * A typical llama.cpp {@code llama-server} response omits {@code message.refusal} and {@code choices[].logprobs}, so
 * it FAILS {@code CreateChatCompletionResponse} with exactly those two "required property" errors (its model field
 * being a file path is fine: {@code model} is any string; its extra {@code timings} object is fine too, the schema
 * allows additional properties). A test that passes an upstream's body through verbatim should therefore either
 * expect those errors, or the gateway must normalise such bodies (add {@code "refusal": null} /
 * {@code "logprobs": null}) before asserting conformance.
 */
public final class OpenAiSchemas {

    public static final String CHAT_COMPLETION_RESPONSE = "CreateChatCompletionResponse";
    public static final String CHAT_COMPLETION_CHUNK = "CreateChatCompletionStreamResponse";
    public static final String CHAT_COMPLETION_REQUEST = "CreateChatCompletionRequest";
    public static final String COMPLETION_RESPONSE = "CreateCompletionResponse";
    public static final String EMBEDDING_RESPONSE = "CreateEmbeddingResponse";
    public static final String LIST_MODELS_RESPONSE = "ListModelsResponse";
    public static final String MODEL = "Model";
    public static final String ERROR_RESPONSE = "ErrorResponse";

    /** System property that overrides the location of {@code openapi.json}. */
    public static final String SPEC_PROPERTY = "openai.spec";

    /** In-memory IRI under which the (rewritten) spec is registered; never fetched. */
    static final String SPEC_URI = "https://openai-spec.llmgw.test/openapi.json";

    private static final String SSE_DONE = "[DONE]";
    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private OpenAiSchemas() {
    }

    // ---------------------------------------------------------------------------------------------------------------
    // public API

    /**
     * Validates {@code json} against {@code #/components/schemas/<schemaName>}.
     *
     * @return human-readable problems, each prefixed with the JSON location; empty when the document conforms.
     *     Unparseable JSON yields a single "not valid JSON" entry.
     * @throws IllegalArgumentException if the spec has no such component schema
     */
    public static List<String> errors(String schemaName, String json) {
        Schema schema = schema(schemaName);
        JsonNode instance;
        try {
            instance = MAPPER.readTree(json == null ? "" : json);
        } catch (JacksonException e) {
            return List.of("not valid JSON: " + e.getOriginalMessage());
        }
        if (instance == null || instance.isMissingNode()) {
            return List.of("not valid JSON: empty document");
        }
        List<Error> raw = schema.validate(instance);
        List<String> out = new ArrayList<>(raw.size());
        for (Error e : raw) {
            out.add(e.toString());
        }
        return out;
    }

    /** Fails (AssertJ) listing every problem and the offending JSON unless {@code json} conforms. */
    public static void assertValid(String schemaName, String json) {
        List<String> problems = errors(schemaName, json);
        if (!problems.isEmpty()) {
            fail(describe(schemaName, problems, json));
        }
    }

    /**
     * Checks a whole {@code text/event-stream} body: it is split into events (blank-line separated; {@code :} comment
     * lines and {@code event:}/{@code id:}/{@code retry:} fields are ignored; multiple {@code data:} lines of one
     * event are joined with {@code \n}); every data payload except the terminating {@code [DONE]} must conform to
     * {@code schemaName} (typically {@link #CHAT_COMPLETION_CHUNK}); there must be at least one such payload; and the
     * last data payload must be exactly {@code [DONE]}, with no data after it.
     */
    public static void assertSseStreamValid(String schemaName, String sseBody) {
        schema(schemaName); // unknown name -> IllegalArgumentException before anything else
        List<String> payloads = sseDataPayloads(sseBody);
        StringBuilder failures = new StringBuilder();
        int chunks = 0;
        for (int i = 0; i < payloads.size(); i++) {
            String data = payloads.get(i);
            boolean last = i == payloads.size() - 1;
            if (SSE_DONE.equals(data.strip())) {
                if (!last) {
                    failures.append("- event #").append(i).append(": data: [DONE] is followed by ")
                            .append(payloads.size() - 1 - i).append(" more data event(s)\n");
                }
                continue;
            }
            chunks++;
            List<String> problems = errors(schemaName, data);
            if (!problems.isEmpty()) {
                failures.append("- event #").append(i).append(" does not conform to ").append(schemaName).append(":\n");
                for (String p : problems) {
                    failures.append("    ").append(p).append('\n');
                }
                failures.append("    data: ").append(data).append('\n');
            }
        }
        if (chunks == 0) {
            failures.append("- the stream has no data payload other than [DONE]\n");
        }
        if (payloads.isEmpty() || !SSE_DONE.equals(payloads.get(payloads.size() - 1).strip())) {
            failures.append("- the stream does not end with 'data: [DONE]'\n");
        }
        if (failures.length() > 0) {
            fail("SSE stream is not a conformant " + schemaName + " stream:\n" + failures
                    + "---- full body ----\n" + sseBody);
        }
    }

    /**
     * The {@code data} payloads of an SSE body, in order (events without data are skipped). Accepts {@code \n},
     * {@code \r\n} and {@code \r} line endings; strips one space after {@code data:} as the SSE spec does.
     */
    public static List<String> sseDataPayloads(String sseBody) {
        List<String> payloads = new ArrayList<>();
        StringBuilder data = null;
        for (String line : sseBody.split("\r\n|\r|\n", -1)) {
            if (line.isEmpty()) { // dispatch
                if (data != null) {
                    payloads.add(data.toString());
                    data = null;
                }
                continue;
            }
            if (line.startsWith(":")) {
                continue; // comment / keep-alive
            }
            int colon = line.indexOf(':');
            String field = colon < 0 ? line : line.substring(0, colon);
            if (!field.equals("data")) {
                continue; // event:, id:, retry:, unknown fields
            }
            String value = colon < 0 ? "" : line.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            if (data == null) {
                data = new StringBuilder(value);
            } else {
                data.append('\n').append(value);
            }
        }
        if (data != null) { // body not terminated by a blank line: still report the last event
            payloads.add(data.toString());
        }
        return payloads;
    }

    /** The component schema names present in the spec (loads it). */
    public static Set<String> schemaNames() {
        return spec().schemaNames;
    }

    /** Where the spec was loaded from (loads it). */
    public static Path specPath() {
        return spec().path;
    }

    /** Wall-clock time the one-off load took: read, parse, rewrite, serialise, validator parse (loads it). */
    public static long loadMillis() {
        return spec().loadMillis;
    }

    /** Number of {@code nullable} keywords rewritten (or, for {@code nullable: false}, dropped) in the spec. */
    public static int nullableRewrites() {
        return spec().rewrites.nullable();
    }

    /** Number of {@code discriminator} keywords removed from the spec (see the class Javadoc). */
    public static int discriminatorsRemoved() {
        return spec().rewrites.discriminators();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // internals

    private static Schema schema(String schemaName) {
        Spec spec = spec();
        if (!spec.schemaNames.contains(schemaName)) {
            throw new IllegalArgumentException("no component schema '" + schemaName + "' in " + spec.path);
        }
        return spec.compiled.computeIfAbsent(schemaName,
                n -> spec.registry.getSchema(SchemaLocation.of(SPEC_URI + "#/components/schemas/" + n)));
    }

    private static String describe(String schemaName, List<String> problems, String json) {
        StringBuilder sb = new StringBuilder();
        sb.append("JSON does not conform to OpenAI schema ").append(schemaName).append(" (")
                .append(problems.size()).append(" problem(s)):\n");
        for (String p : problems) {
            sb.append("- ").append(p).append('\n');
        }
        sb.append("---- JSON ----\n").append(json);
        return sb.toString();
    }

    /** Lazy holder: initialised on first use, once per JVM (class loader). A failed load is remembered, not retried. */
    private static final class Holder {
        static final Object SPEC_OR_FAILURE = loadOrFailure();

        private static Object loadOrFailure() {
            try {
                return Spec.load();
            } catch (RuntimeException | java.lang.Error e) {
                return e;
            }
        }
    }

    private static Spec spec() {
        Object o = Holder.SPEC_OR_FAILURE;
        if (o instanceof Spec s) {
            return s;
        }
        Throwable cause = (Throwable) o;
        throw new IllegalStateException("OpenAI spec could not be loaded: " + cause.getMessage(), cause);
    }

    private static final class Spec {
        final Path path;
        final SchemaRegistry registry;
        final Set<String> schemaNames;
        final Map<String, Schema> compiled = new ConcurrentHashMap<>();
        final long loadMillis;
        final SpecRewriter.Stats rewrites;

        private Spec(Path path, SchemaRegistry registry, Set<String> schemaNames, long loadMillis,
                SpecRewriter.Stats rewrites) {
            this.path = path;
            this.registry = registry;
            this.schemaNames = schemaNames;
            this.loadMillis = loadMillis;
            this.rewrites = rewrites;
        }

        static Spec load() {
            long start = System.nanoTime();
            Path path = locate();
            String text;
            try {
                text = Files.readString(path, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read OpenAI spec " + path, e);
            }
            JsonNode root = MAPPER.readTree(text);
            SpecRewriter.Stats stats = SpecRewriter.rewrite(root);
            JsonNode schemas = root.path("components").path("schemas");
            if (!schemas.isObject() || schemas.isEmpty()) {
                throw new IllegalStateException(path + " has no components.schemas");
            }
            Set<String> names = Set.copyOf(schemas.propertyNames());
            String rewritten = MAPPER.writeValueAsString(root);
            SchemaRegistryConfig config = SchemaRegistryConfig.builder()
                    .locale(Locale.ENGLISH)
                    .messageSource(OwnJarMessageSource.INSTANCE)
                    .build();
            SchemaRegistry registry = SchemaRegistry.withDefaultDialect(Dialects.getOpenApi31(),
                    b -> b.schemaRegistryConfig(config).schemas(Map.of(SPEC_URI, rewritten)));
            // the registry parses the document on first use: do it now (via a small schema) so loadMillis is honest
            String warmUp = names.contains(ERROR_RESPONSE) ? ERROR_RESPONSE : names.iterator().next();
            Schema warm = registry.getSchema(SchemaLocation.of(SPEC_URI + "#/components/schemas/" + warmUp));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            Spec spec = new Spec(path, registry, names, millis, stats);
            spec.compiled.put(warmUp, warm);
            return spec;
        }

        private static Path locate() {
            String override = System.getProperty(SPEC_PROPERTY);
            if (override != null && !override.isBlank()) {
                Path p = Path.of(override).toAbsolutePath().normalize();
                if (!Files.isRegularFile(p)) {
                    throw new IllegalStateException("-D" + SPEC_PROPERTY + "=" + override + ": no such file " + p);
                }
                return p;
            }
            Path userDir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
            Path primary = userDir.resolve("../../shared/openai/openapi.json").normalize();
            if (Files.isRegularFile(primary)) {
                return primary;
            }
            for (Path dir = userDir; dir != null; dir = dir.getParent()) {
                Path candidate = dir.resolve("shared/openai/openapi.json");
                if (Files.isRegularFile(candidate)) {
                    return candidate.normalize();
                }
            }
            throw new IllegalStateException("OpenAI spec not found at " + primary
                    + " nor in any shared/openai/ above " + userDir + "; set -D" + SPEC_PROPERTY + "=/path/openapi.json");
        }
    }

    /**
     * Reads the validator's message bundle ({@code jsv-messages*.properties}) from the validator's own jar.
     * {@code wiremock-standalone} (also on the test class path, and earlier) ships an unrelocated
     * {@code jsv-messages.properties} of json-schema-validator 1.x whose placeholders are numbered differently;
     * with the default lookup it shadows 3.0.9's and messages come out as
     * {@code "string: integer found, {2} expected"} instead of {@code "string found, integer expected"}.
     */
    static final class OwnJarMessageSource extends ResourceBundleMessageSource {
        static final OwnJarMessageSource INSTANCE = new OwnJarMessageSource();

        private final ClassLoader validatorJarOnly;

        private OwnJarMessageSource() {
            super(DefaultMessageSource.BUNDLE_BASE_NAME);
            URL jar = Schema.class.getProtectionDomain().getCodeSource().getLocation();
            this.validatorJarOnly = new URLClassLoader(new URL[] {jar}, null); // lives as long as the test JVM
        }

        @Override
        protected ResourceBundle getResourceBundle(String baseName, Locale locale) {
            try {
                return ResourceBundle.getBundle(baseName, locale, validatorJarOnly);
            } catch (MissingResourceException e) {
                return null;
            }
        }
    }

    /**
     * In-place rewrites that make the spec evaluate as its authors intended under JSON Schema 2020-12 (see the class
     * Javadoc): {@code nullable} to 2020-12 form, {@code discriminator} removed, {@code x-*} extensions removed.
     */
    static final class SpecRewriter {
        /** Keywords whose values are data, not schemas: never descended into. */
        private static final Set<String> DATA_KEYWORDS = Set.of("example", "examples", "default", "const", "enum");
        /** Keywords whose value is an object mapping arbitrary names to schemas (or to schema-bearing objects). */
        private static final Set<String> NAME_MAPS = Set.of("properties", "patternProperties", "$defs", "definitions",
                "dependentSchemas", "schemas", "paths", "webhooks", "responses", "parameters", "requestBodies",
                "headers", "content", "callbacks", "links", "encoding", "securitySchemes", "pathItems");
        /** When one of these sits beside nullable, widening {@code type} is not enough: wrap in anyOf instead. */
        private static final Set<String> NEEDS_WRAP = Set.of("$ref", "allOf", "anyOf", "oneOf", "not", "const", "if",
                "$dynamicRef");

        /** Counts of what was rewritten. */
        record Stats(int nullable, int discriminators, int extensions) {
        }

        private int nullable;
        private int discriminators;
        private int extensions;

        private SpecRewriter() {
        }

        static Stats rewrite(JsonNode root) {
            SpecRewriter r = new SpecRewriter();
            r.visit(root, false);
            return new Stats(r.nullable, r.discriminators, r.extensions);
        }

        /** @return the node to put in place of {@code node} (itself, or a wrapper) */
        private JsonNode visit(JsonNode node, boolean nameMap) {
            if (node.isArray()) {
                ArrayNode array = (ArrayNode) node;
                for (int i = 0; i < array.size(); i++) {
                    JsonNode child = array.get(i);
                    JsonNode replaced = visit(child, false);
                    if (replaced != child) {
                        array.set(i, replaced);
                    }
                }
                return node;
            }
            if (!node.isObject()) {
                return node;
            }
            ObjectNode object = (ObjectNode) node;
            List<Map.Entry<String, JsonNode>> entries = new ArrayList<>(object.properties());
            for (Map.Entry<String, JsonNode> e : entries) {
                String key = e.getKey();
                JsonNode child = e.getValue();
                if (!nameMap) {
                    if (key.startsWith("x-")) {
                        object.remove(key);
                        extensions++;
                        continue;
                    }
                    if (key.equals("discriminator") && child.isObject()) {
                        object.remove(key);
                        discriminators++;
                        continue;
                    }
                    if (DATA_KEYWORDS.contains(key)) {
                        continue;
                    }
                }
                JsonNode replaced = visit(child, !nameMap && NAME_MAPS.contains(key));
                if (replaced != child) {
                    object.set(key, replaced);
                }
            }
            return nameMap ? node : rewriteNullable(object);
        }

        private JsonNode rewriteNullable(ObjectNode object) {
            JsonNode flag = object.get("nullable");
            if (flag == null || !flag.isBoolean()) {
                return object;
            }
            nullable++;
            object.remove("nullable");
            if (!flag.booleanValue()) {
                return object;
            }
            JsonNode type = object.get("type");
            boolean wrap = type == null || !(type.isString() || type.isArray());
            for (Iterator<String> it = NEEDS_WRAP.iterator(); !wrap && it.hasNext(); ) {
                wrap = object.has(it.next());
            }
            if (wrap) {
                ObjectNode wrapper = JsonNodeFactory.instance.objectNode();
                ArrayNode anyOf = wrapper.putArray("anyOf");
                anyOf.add(object);
                anyOf.addObject().put("type", "null");
                return wrapper;
            }
            if (type.isString()) {
                if (!type.stringValue().equals("null")) {
                    object.set("type", JsonNodeFactory.instance.arrayNode().add(type.stringValue()).add("null"));
                }
            } else if (!containsString((ArrayNode) type, "null")) {
                ((ArrayNode) type).add("null");
            }
            JsonNode en = object.get("enum");
            if (en != null && en.isArray() && !containsNullValue((ArrayNode) en)) {
                ((ArrayNode) en).addNull();
            }
            return object;
        }

        private static boolean containsString(ArrayNode values, String s) {
            for (JsonNode v : values) {
                if (v.isString() && v.stringValue().equals(s)) {
                    return true;
                }
            }
            return false;
        }

        private static boolean containsNullValue(ArrayNode values) {
            for (JsonNode v : values) {
                if (v.isNull()) {
                    return true;
                }
            }
            return false;
        }
    }
}
