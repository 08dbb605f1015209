package dev.llmgw.bench.mock;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Measures streamed (SSE) requests one at a time over one keep-alive connection, the way an SDK
 * client with a connection pool would see them: time to the first SSE event (TTFB), time to the end
 * of the response (total), and the largest gap between two consecutive events (a relay that batches
 * chunks shows up as gaps far above the backend's own delay).
 *
 * <p>Plain blocking socket and a hand-written HTTP/1.1 response reader (status, headers, then
 * Content-Length, chunked or read-to-close body), so that the client adds as little as possible; times
 * are taken right after each {@code read()} returns.
 *
 * <pre>
 *   java -cp mock-backend.jar dev.llmgw.bench.mock.StreamProbe HOST PATH BODY_FILE RUNS WARMUP \
 *       direct=18092 nginx=18082 gateway=18080
 * </pre>
 *
 * The targets are probed round-robin, one request each, so that a slow drift of a shared machine
 * affects them alike. Prints one line per target: {@code probe label=... runs=... ttfb_p50_ms=...
 * ttfb_p90_ms=... total_p50_ms=... total_p90_ms=... maxgap_p50_ms=... maxgap_max_ms=... events=...
 * errors=...}.
 */
public final class StreamProbe {
  private final String host;
  private final int port;
  private final byte[] request;
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private final byte[] buf = new byte[64 * 1024];

  private StreamProbe(String host, int port, String path, byte[] body) {
    this.host = host;
    this.port = port;
    String head = "POST " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\n"
        + "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
        + "Content-Length: " + body.length + "\r\n\r\n";
    byte[] h = head.getBytes(StandardCharsets.US_ASCII);
    this.request = Arrays.copyOf(h, h.length + body.length);
    System.arraycopy(body, 0, request, h.length, body.length);
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 6) {
      System.err.println("usage: StreamProbe HOST PATH BODY_FILE RUNS WARMUP LABEL=PORT [LABEL=PORT...]");
      System.exit(2);
    }
    String host = args[0];
    String path = args[1];
    byte[] body = Files.readAllBytes(Path.of(args[2]));
    int runs = Integer.parseInt(args[3]);
    int warmup = Integer.parseInt(args[4]);
    int n = args.length - 5;
    String[] labels = new String[n];
    StreamProbe[] probes = new StreamProbe[n];
    for (int t = 0; t < n; t++) {
      String[] lp = args[5 + t].split("=", 2);
      labels[t] = lp[0];
      probes[t] = new StreamProbe(host, Integer.parseInt(lp[1]), path, body);
    }
    double[][] ttfb = new double[n][runs];
    double[][] total = new double[n][runs];
    double[][] maxGap = new double[n][runs];
    int[] events = new int[n];
    int[] errors = new int[n];
    // Round-robin over the targets, one request each: slow drifts of the machine hit all alike.
    for (int i = 0; i < warmup + runs; i++) {
      for (int t = 0; t < n; t++) {
        if (errors[t] > 5) {
          continue;
        }
        StreamProbe p = probes[t];
        Result r;
        try {
          r = p.once();
        } catch (IOException e) {
          errors[t]++;
          p.closeQuietly();
          System.err.println("probe " + labels[t] + ": " + e);
          continue;
        }
        if (r.status != 200) {
          errors[t]++;
        }
        if (i >= warmup) {
          int k = i - warmup;
          ttfb[t][k] = r.ttfbMs;
          total[t][k] = r.totalMs;
          maxGap[t][k] = r.maxGapMs;
          events[t] = r.events;
        }
      }
    }
    for (int t = 0; t < n; t++) {
      probes[t].closeQuietly();
      System.out.println(String.format(Locale.ROOT,
          "probe label=%s runs=%d ttfb_p50_ms=%.3f ttfb_p90_ms=%.3f total_p50_ms=%.3f total_p90_ms=%.3f "
              + "maxgap_p50_ms=%.3f maxgap_max_ms=%.3f events=%d errors=%d",
          labels[t], runs, pct(ttfb[t], 50), pct(ttfb[t], 90), pct(total[t], 50), pct(total[t], 90),
          pct(maxGap[t], 50), pct(maxGap[t], 100), events[t], errors[t]));
    }
  }

  private static double pct(double[] v, double p) {
    double[] s = v.clone();
    Arrays.sort(s);
    int i = (int) Math.ceil(p / 100.0 * s.length) - 1;
    return s[Math.max(0, Math.min(s.length - 1, i))];
  }

  private record Result(int status, double ttfbMs, double totalMs, double maxGapMs, int events) {}

  private void connect() throws IOException {
    socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.setSoTimeout(30_000);
    socket.connect(new InetSocketAddress(host, port), 5_000);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  private void closeQuietly() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing
      }
      socket = null;
    }
  }

  /** One request/response; times relative to the moment the request was written. */
  private Result once() throws IOException {
    if (socket == null) {
      connect();
    }
    long t0 = System.nanoTime();
    out.write(request);
    out.flush();
    Reader r = new Reader();
    r.run();
    if (r.close) {
      closeQuietly();
    }
    return new Result(r.status, (r.firstEventNanos - t0) / 1e6, (r.endNanos - t0) / 1e6, r.maxGapNanos / 1e6,
        r.events);
  }

  /** Incremental HTTP/1.1 response reader that timestamps each SSE event boundary ("\n\n"). */
  private final class Reader {
    int status;
    boolean close;
    long firstEventNanos;
    long lastEventNanos;
    long maxGapNanos;
    long endNanos;
    int events;
    private byte prevBodyByte;

    private final StringBuilder headBytes = new StringBuilder();
    private boolean inHead = true;
    private boolean chunked;
    private long contentLength = -1;
    private long bodyRead;
    // chunked state
    private long chunkLeft;
    private final StringBuilder sizeLine = new StringBuilder();
    private int chunkState; // 0 = size line, 1 = data, 2 = CRLF after data, 3 = trailer after last chunk
    private boolean done;

    Reader() {}

    void run() throws IOException {
      while (!done) {
        int n = in.read(buf);
        long now = System.nanoTime();
        if (n < 0) {
          if (!inHead && !chunked && contentLength < 0) {
            endNanos = now;
            close = true;
            return;
          }
          throw new IOException("connection closed mid-response");
        }
        feed(buf, 0, n, now);
      }
    }

    private void feed(byte[] b, int off, int len, long now) throws IOException {
      int i = off;
      int end = off + len;
      while (i < end && !done) {
        if (inHead) {
          char c = (char) (b[i++] & 0xff);
          headBytes.append(c);
          int l = headBytes.length();
          if (l >= 4 && headBytes.charAt(l - 1) == '\n' && headBytes.charAt(l - 2) == '\r'
              && headBytes.charAt(l - 3) == '\n' && headBytes.charAt(l - 4) == '\r') {
            parseHead();
            inHead = false;
            if (!chunked && contentLength == 0) {
              finish(now);
            }
          }
          continue;
        }
        if (!chunked) {
          int take = (int) (contentLength < 0 ? end - i : Math.min(end - i, contentLength - bodyRead));
          body(b, i, take, now);
          i += take;
          bodyRead += take;
          if (contentLength >= 0 && bodyRead >= contentLength) {
            finish(now);
          }
          continue;
        }
        switch (chunkState) {
          case 0 -> {
            char c = (char) (b[i++] & 0xff);
            if (c == '\n') {
              String s = sizeLine.toString().trim();
              int semi = s.indexOf(';');
              chunkLeft = Long.parseLong(semi < 0 ? s : s.substring(0, semi), 16);
              sizeLine.setLength(0);
              chunkState = chunkLeft == 0 ? 3 : 1;
            } else {
              sizeLine.append(c);
            }
          }
          case 1 -> {
            int take = (int) Math.min(end - i, chunkLeft);
            body(b, i, take, now);
            i += take;
            chunkLeft -= take;
            if (chunkLeft == 0) {
              chunkState = 2;
            }
          }
          case 2 -> {
            if (b[i++] == '\n') {
              chunkState = 0;
            }
          }
          case 3 -> { // trailer section: ends with an empty line
            char c = (char) (b[i++] & 0xff);
            if (c == '\n') {
              if (sizeLine.toString().trim().isEmpty()) {
                finish(now);
              }
              sizeLine.setLength(0);
            } else {
              sizeLine.append(c);
            }
          }
          default -> throw new IOException("bad chunk state");
        }
      }
    }

    private void body(byte[] b, int off, int len, long now) {
      for (int k = off; k < off + len; k++) {
        byte c = b[k];
        if (c == '\n' && prevBodyByte == '\n') {
          events++;
          if (firstEventNanos == 0) {
            firstEventNanos = now;
          } else {
            maxGapNanos = Math.max(maxGapNanos, now - lastEventNanos);
          }
          lastEventNanos = now;
          c = 0; // "\n\n\n" is one boundary, not two
        }
        prevBodyByte = c;
      }
    }

    private void finish(long now) {
      endNanos = now;
      if (firstEventNanos == 0) {
        firstEventNanos = now;
      }
      done = true;
    }

    private void parseHead() throws IOException {
      String[] lines = headBytes.toString().split("\r\n");
      String[] statusLine = lines[0].split(" ");
      if (statusLine.length < 2) {
        throw new IOException("bad status line: " + lines[0]);
      }
      status = Integer.parseInt(statusLine[1]);
      close = lines[0].startsWith("HTTP/1.0");
      for (int k = 1; k < lines.length; k++) {
        String line = lines[k];
        int colon = line.indexOf(':');
        if (colon <= 0) {
          continue;
        }
        String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = line.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
        switch (name) {
          case "transfer-encoding" -> chunked = value.contains("chunked");
          case "content-length" -> contentLength = Long.parseLong(value);
          case "connection" -> close = value.contains("close") || close;
          default -> { }
        }
      }
      if (chunked) {
        contentLength = -1;
      }
    }
  }
}
