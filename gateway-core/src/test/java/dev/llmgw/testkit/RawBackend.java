package dev.llmgw.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A backend that writes raw bytes on the socket, for failures an HTTP server library would tidy up:
 * a chunked stream cut after N events (no terminating chunk), a reset mid-body.
 */
public final class RawBackend implements AutoCloseable {
  /** What to write after reading one request; the socket is closed afterwards. */
  @FunctionalInterface
  public interface Script {
    void run(OutputStream out) throws IOException;
  }

  /** The whole conversation on one accepted connection (the socket is closed afterwards). */
  @FunctionalInterface
  public interface Conversation {
    void run(Socket s) throws IOException;
  }

  private final ServerSocket server;
  private final Thread acceptor;

  public RawBackend(Script script) throws IOException {
    this(adapt(script));
  }

  private static Conversation adapt(Script script) {
    return s -> {
      readRequest(s);
      script.run(s.getOutputStream());
      s.getOutputStream().flush();
    };
  }

  /** A backend that holds the whole conversation itself (reads the request, writes, may read on). */
  public static RawBackend conversing(Conversation conversation) throws IOException {
    return new RawBackend(conversation);
  }

  private RawBackend(Conversation conversation) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        try (Socket s = server.accept()) {
          conversation.run(s);
        } catch (IOException e) {
          // closed, or the gateway hung up: either way the next accept decides
        }
      }
    }, "raw-backend");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Reads one request (head and Content-Length body) off the socket. */
  public static void readRequest(Socket s) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
    int length = 0;
    String line;
    while ((line = in.readLine()) != null && !line.isEmpty()) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    for (int i = 0; i < length; i++) {
      in.read();
    }
  }

  /** A chunked SSE response head. */
  public static void sseHead(OutputStream out) throws IOException {
    out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
  }

  /** One SSE event as one HTTP chunk. */
  public static void sseChunk(OutputStream out, String data) throws IOException {
    byte[] ev = ("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8);
    out.write((Integer.toHexString(ev.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.write(ev);
    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.getLocalPort() + "/v1";
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
