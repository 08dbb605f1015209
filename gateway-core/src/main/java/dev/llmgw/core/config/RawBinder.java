package dev.llmgw.core.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.llmgw.core.config.raw.GatewayYaml;
import java.util.List;

/**
 * Binds the (substituted) YAML text to the {@link GatewayYaml} records. Unknown keys and values of
 * the wrong shape do not stop the binding: {@link UnknownKeys} reports the keys, {@link
 * BindingProblemHandler} the values, and the binder carries on, so that every such problem is
 * reported in one go.
 */
final class RawBinder {

  private static final YAMLMapper MAPPER = mapper();

  private static YAMLMapper mapper() {
    YAMLMapper mapper = YAMLMapper.builder(new YAMLFactory())
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
        .build();
    // "" where a mapping or list belongs goes to the problem handler rather than failing the bind
    for (LogicalType type : List.of(LogicalType.POJO, LogicalType.Map, LogicalType.Collection)) {
      mapper.coercionConfigFor(type)
          .setCoercion(CoercionInputShape.EmptyString, CoercionAction.TryConvert);
    }
    return mapper;
  }

  private RawBinder() {}

  /** The bound file, or {@code null} when it could not be bound at all (the problem is recorded). */
  static GatewayYaml bind(String text, Problems problems) {
    return bind(text, GatewayYaml.class, problems);
  }

  /** Binds any raw record type the same way (routing.yaml, keys files). */
  static <T> T bind(String text, Class<T> type, Problems problems) {
    ObjectReader reader = MAPPER.readerFor(type)
        .withHandler(new BindingProblemHandler(problems));
    try {
      UnknownKeys.check(MAPPER.readTree(text), type, "", problems);
      return reader.readValue(text);
    } catch (JsonMappingException e) {
      problems.add(path(e.getPath()), firstLine(e.getOriginalMessage()));
    } catch (JsonProcessingException e) {
      int line = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
      problems.addAt(line, "", "not valid YAML: " + firstLine(e.getOriginalMessage()));
    }
    return null;
  }

  /**
   * The text as a tree, or {@code null} when it cannot be read (binding reports why): for looking at
   * a few values before binding.
   */
  static JsonNode tree(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  private static String path(List<JsonMappingException.Reference> refs) {
    String path = "";
    for (JsonMappingException.Reference r : refs) {
      path = r.getFieldName() != null ? YamlPath.child(path, r.getFieldName())
          : r.getIndex() >= 0 ? YamlPath.element(path, r.getIndex()) : path;
    }
    return path;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "cannot be read";
    }
    int nl = message.indexOf('\n');
    return (nl < 0 ? message : message.substring(0, nl)).strip();
  }
}
