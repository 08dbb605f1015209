package dev.llmgw.server.http;

import dev.llmgw.core.config.Economics;
import dev.llmgw.core.economics.WorkflowLedger;
import dev.llmgw.core.ingress.ParsedRequest;
import dev.llmgw.core.log.RequestLogBuilder;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * Reads which workflow a request belongs to: headers {@code x-workflow-id} / {@code x-workflow-type},
 * else the OpenAI {@code metadata.workflow_id} / {@code metadata.workflow_type} fields. The type is
 * mapped onto the configured, bounded set ({@code other} for anything else); the id is kept (capped)
 * for the ledger only, never as a metric label.
 */
final class Workflows {
  static final String ID_HEADER = "x-workflow-id";
  static final String TYPE_HEADER = "x-workflow-type";

  private Workflows() {}

  static void tag(RequestLogBuilder log, HttpHeaders headers, ParsedRequest body, Economics economics) {
    String id = headers.get(ID_HEADER);
    String type = headers.get(TYPE_HEADER);
    if (id == null) {
      id = body.workflowId();
    }
    if (type == null) {
      type = body.workflowType();
    }
    if (id != null && !id.isBlank()) {
      log.workflow(id.length() > WorkflowLedger.MAX_ID_LENGTH ? id.substring(0, WorkflowLedger.MAX_ID_LENGTH) : id,
          economics.typeOf(type == null ? Economics.OTHER : type));
    } else if (type != null) {
      log.workflow(null, economics.typeOf(type));
    }
  }
}
