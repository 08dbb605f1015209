package dev.llmgw.server.http;

import dev.llmgw.core.log.RequestLog;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request on the {@code access} logger (asynchronous appender in logback.xml, so the
 * event loop never waits on I/O). Lines carry no header values: no credential can reach the log.
 */
public final class AccessLog {
  private static final Logger ACCESS = LoggerFactory.getLogger("access");

  private AccessLog() {}

  public static RequestLog start(ChannelHandlerContext ctx, String requestId, HttpMessage msg) {
    RequestLog log = new RequestLog();
    log.requestId = requestId;
    log.remote = remote(ctx.channel().remoteAddress());
    if (msg instanceof HttpRequest req) {
      log.method = req.method().name();
      String uri = req.uri();
      int q = uri.indexOf('?');
      log.path = q < 0 ? uri : uri.substring(0, q);
    } else {
      log.method = "-";
    }
    return log;
  }

  public static void write(RequestLog log) {
    if (ACCESS.isInfoEnabled()) {
      ACCESS.info(log.toLine());
    }
  }

  private static String remote(SocketAddress a) {
    if (a instanceof InetSocketAddress i) {
      return i.getAddress() == null ? i.getHostString() + ":" + i.getPort()
          : i.getAddress().getHostAddress() + ":" + i.getPort();
    }
    return String.valueOf(a);
  }
}
