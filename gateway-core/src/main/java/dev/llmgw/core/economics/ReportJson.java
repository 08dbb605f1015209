package dev.llmgw.core.economics;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;

/**
 * JSON for economics output: records as objects, and an unknown amount (NaN) as {@code null} —
 * never as a number, never as zero.
 */
public final class ReportJson {
  public static final ObjectMapper MAPPER = JsonMapper.builder()
      .addModule(new SimpleModule().addSerializer(Double.class, new NanAsNull()).addSerializer(Double.TYPE,
          new NanAsNull()))
      .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
      .build();

  private ReportJson() {}

  private static final class NanAsNull extends StdSerializer<Double> {
    private static final long serialVersionUID = 1L;

    NanAsNull() {
      super(Double.class);
    }

    @Override
    public void serialize(Double value, JsonGenerator gen, SerializerProvider provider) throws IOException {
      if (value == null || value.isNaN() || value.isInfinite()) {
        gen.writeNull();
      } else {
        gen.writeNumber(value);
      }
    }
  }
}
