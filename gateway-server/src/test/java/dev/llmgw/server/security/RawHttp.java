package dev.llmgw.server.security;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A blocking HTTP/1.1 client over a raw socket: sends exactly the bytes it is given (malformed ones
 * included) and parses the responses the gateway writes back one by one, so a test can count them
 * and see whether the connection was closed after them.
 */
final class RawHttp implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  private RawHttp(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new BufferedInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  static RawHttp connect(int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
    s.setSoTimeout(5000);
    s.setTcpNoDelay(true);
    return new RawHttp(s);
  }

  /** One parsed response. Header names are lower case. */
  record Response(String statusLine, int status, Map<String, List<String>> headers, byte[] bodyBytes) {
    String body() {
      return new String(bodyBytes, StandardCharsets.UTF_8);
    }

    String header(String name) {
      List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
      return v == null || v.isEmpty() ? null : v.get(0);
    }

    /** The whole response as text (status line, every header, body), for secret scans. */
    String text() {
      StringBuilder sb = new StringBuilder(statusLine).append('\n');
      headers.forEach((k, vs) -> vs.forEach(v -> sb.append(k).append(": ").append(v).append('\n')));
      return sb.append('\n').append(body()).toString();
    }
  }

  void send(String raw) throws IOException {
    send(raw.getBytes(StandardCharsets.ISO_8859_1));
  }

  void send(byte[] raw) throws IOException {
    out.write(raw);
    out.flush();
  }

  /**
   * Reads the next response; null when the connection ends (EOF or reset) before its first byte.
   *
   * @throws SocketTimeoutException when nothing (more) arrives within the socket timeout
   */
  Response read() throws IOException {
    String statusLine;
    try {
      statusLine = line(true);
    } catch (SocketException reset) {
      return null;
    }
    if (statusLine == null) {
      return null;
    }
    String[] parts = statusLine.split(" ", 3);
    int status = Integer.parseInt(parts[1]);
    Map<String, List<String>> headers = new LinkedHashMap<>();
    String h;
    while (!(h = line(false)).isEmpty()) {
      int colon = h.indexOf(':');
      headers.computeIfAbsent(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(h.substring(colon + 1).trim());
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    List<String> te = headers.get("transfer-encoding");
    List<String> cl = headers.get("content-length");
    if (te != null && te.get(0).toLowerCase(Locale.ROOT).contains("chunked")) {
      while (true) {
        String sizeLine = line(false);
        int semi = sizeLine.indexOf(';');
        int size = Integer.parseInt((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
        if (size == 0) {
          while (!line(false).isEmpty()) {
            // trailers
          }
          break;
        }
        body.write(in.readNBytes(size));
        line(false);
      }
    } else if (cl != null) {
      int n = Integer.parseInt(cl.get(0));
      byte[] b = in.readNBytes(n);
      if (b.length < n) {
        throw new EOFException("body cut after " + b.length + " of " + n + " bytes");
      }
      body.write(b);
    } else if (status >= 200 && status != 204 && status != 304) {
      body.write(in.readAllBytes()); // delimited by the end of the connection
    }
    return new Response(statusLine, status, headers, body.toByteArray());
  }

  /**
   * Whether the peer closes the connection within {@code within} without sending anything more:
   * true on EOF or reset, false when it stays open that long.
   *
   * @throws IOException when bytes arrive instead (an unexpected extra response)
   */
  boolean closedWithin(Duration within) throws IOException {
    int old = socket.getSoTimeout();
    socket.setSoTimeout((int) Math.max(1, within.toMillis()));
    try {
      int b = in.read();
      if (b < 0) {
        return true;
      }
      throw new IOException("unexpected byte after the last response: " + (char) b + new String(
          in.readNBytes(Math.min(in.available(), 200)), StandardCharsets.ISO_8859_1));
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (SocketException reset) {
      return true;
    } finally {
      socket.setSoTimeout(old);
    }
  }

  void soTimeout(Duration d) throws SocketException {
    socket.setSoTimeout((int) d.toMillis());
  }

  /** A CRLF-terminated line (a bare LF is accepted too); null on EOF before any byte when allowed. */
  private String line(boolean eofAllowed) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(64);
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        byte[] bytes = b.toByteArray();
        int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
      }
      b.write(c);
    }
    if (eofAllowed && b.size() == 0) {
      return null;
    }
    throw new EOFException("connection ended inside a line: " + b);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
