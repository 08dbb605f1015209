package dev.llmgw.core.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import com.fasterxml.jackson.databind.deser.ValueInstantiator;
import java.io.IOException;

/**
 * Turns what Jackson cannot bind into {@link ConfigError}s and lets the binding go on: a value of
 * the wrong shape is recorded and bound as {@code null}; an unknown key is skipped (see
 * {@link UnknownKeys}, which reports it).
 */
final class BindingProblemHandler extends DeserializationProblemHandler {

  private final Problems problems;

  BindingProblemHandler(Problems problems) {
    this.problems = problems;
  }

  /**
   * Skips an unknown key. It is not reported here: {@link UnknownKeys} reports it, with its true
   * path, since Jackson replays a record's unknown keys out of place.
   */
  @Override
  public boolean handleUnknownProperty(DeserializationContext ctxt, JsonParser p,
      JsonDeserializer<?> deserializer, Object beanOrClass, String name) throws IOException {
    p.skipChildren();
    return true;
  }

  @Override
  public Object handleWeirdStringValue(DeserializationContext ctxt, Class<?> targetType,
      String value, String failureMsg) {
    problems.add(YamlPath.of(ctxt.getParser().getParsingContext()),
        "'" + value + "' is not valid here (expected " + describe(targetType) + ")");
    return null;
  }

  @Override
  public Object handleWeirdNumberValue(DeserializationContext ctxt, Class<?> targetType,
      Number value, String failureMsg) {
    problems.add(YamlPath.of(ctxt.getParser().getParsingContext()),
        value + " is not valid here (expected " + describe(targetType) + ")");
    return null;
  }

  @Override
  public Object handleUnexpectedToken(DeserializationContext ctxt, JavaType targetType,
      JsonToken token, JsonParser p, String failureMsg) throws IOException {
    return wrongShape(p, describe(targetType.getRawClass()));
  }

  @Override
  public Object handleMissingInstantiator(DeserializationContext ctxt, Class<?> instClass,
      ValueInstantiator instantiator, JsonParser p, String msg) throws IOException {
    return wrongShape(p, describe(instClass));
  }

  private Object wrongShape(JsonParser p, String expected) throws IOException {
    String path = YamlPath.of(p.getParsingContext());
    String got = describe(p);
    problems.add(path, (path.isEmpty() ? "the file holds " + got : got + " is not valid here")
        + " (expected " + expected + ")");
    if (p.currentToken() == JsonToken.START_OBJECT || p.currentToken() == JsonToken.START_ARRAY) {
      p.skipChildren();
    }
    return null;
  }

  private static String describe(Class<?> type) {
    if (type.isArray() || Iterable.class.isAssignableFrom(type)) {
      return "a list";
    }
    if (type.isRecord()) {
      return "a mapping with keys " + String.join(", ", UnknownKeys.keysOf(type));
    }
    if (java.util.Map.class.isAssignableFrom(type)) {
      return "a mapping";
    }
    return type == String.class ? "a single value" : "a " + type.getSimpleName().toLowerCase();
  }

  private static String describe(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    if (t == null) {
      return "nothing";
    }
    return switch (t) {
      case START_OBJECT -> "a mapping";
      case START_ARRAY -> "a list";
      case VALUE_STRING -> "'" + p.getText() + "'";
      case VALUE_NULL -> "empty";
      default -> t.isScalarValue() ? p.getText() : t.asString();
    };
  }
}
