import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;

/**
 * A closed-loop load generator for streamed (SSE) chat completions, the streaming counterpart of
 * {@code wrk}: wrk times whole responses only, this times the first byte of the body as well. JDK only,
 * one thread, one non-blocking selector (like wrk's one thread and one epoll loop):
 *
 * <pre>
 *   java bench/tools/StreamLoad.java HOST PORT PATH BODY_FILE CONNECTIONS SECONDS WARMUP_SECONDS \
 *       [--cpu-pid=PID] [--clk-tck=100] [--timeout=30]
 * </pre>
 *
 * <p>Each of the CONNECTIONS keep-alive HTTP/1.1 connections POSTs BODY_FILE to PATH, reads the whole
 * response and sends the next request at once, for WARMUP_SECONDS (discarded) and then SECONDS
 * (measured). For every stream that ends inside the measured window it records:
 *
 * <ul>
 *   <li><b>first byte</b>: from just before the request's write to the return of the {@code read()} that
 *       delivered the first byte of the (de-chunked) body, i.e. the first byte of the first SSE event;
 *   <li><b>total</b>: to the return of the {@code read()} that delivered the end of the body (the last
 *       chunk and its trailer, or Content-Length bytes).
 * </ul>
 *
 * <p>Errors: a non-2xx status, a 2xx stream without {@code data: [DONE]}, and socket errors (connect,
 * read, a connection closed mid-response, no complete response within {@code --timeout} seconds); a
 * connection that failed is reopened. Percentiles are exact (every sample kept, nearest rank).
 *
 * <p>With {@code --cpu-pid}, the CPU time (utime + stime, {@code /proc/PID/stat}) of that process
 * across exactly the measured window is reported too: the server's CPU per stream and per SSE event.
 *
 * <p>The last line is machine-readable: {@code RESULT streams=... duration_us=... rps=... fb_p50_us=...
 * fb_p90_us=... fb_p99_us=... fb_max_us=... total_p50_us=... total_p90_us=... total_p99_us=...
 * total_max_us=... events=... status_err=... done_err=... socket_err=... warmup_err=... cpu_ticks=...}
 * ({@code cpu_ticks=-1} without {@code --cpu-pid}).
 */
public final class StreamLoad {
  private static final byte[] DONE = "data: [DONE]".getBytes(StandardCharsets.US_ASCII);
  private static final int MAX_HEAD = 16 * 1024;

  // what is measured (streams that ended inside the window)
  private static long[] firstByte = new long[4096];
  private static long[] total = new long[4096];
  private static int samples;
  private static long events;
  private static long statusErr;
  private static long doneErr;
  private static long socketErr;
  private static long warmupErr;
  private static boolean measuring;
  private static boolean stopping;

  private static String host;
  private static int port;
  private static byte[] request;
  private static Selector selector;
  private static long timeoutNanos;

  private StreamLoad() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 7) {
      System.err.println("usage: StreamLoad HOST PORT PATH BODY_FILE CONNECTIONS SECONDS WARMUP_SECONDS"
          + " [--cpu-pid=PID] [--clk-tck=100] [--timeout=30]");
      System.exit(2);
    }
    host = args[0];
    port = Integer.parseInt(args[1]);
    String path = args[2];
    byte[] body = Files.readAllBytes(Path.of(args[3]));
    int conns = Integer.parseInt(args[4]);
    double seconds = Double.parseDouble(args[5]);
    double warmupSeconds = Double.parseDouble(args[6]);
    long cpuPid = -1;
    long clkTck = 100;
    double timeoutSeconds = 30;
    for (int i = 7; i < args.length; i++) {
      String a = args[i];
      if (a.startsWith("--cpu-pid=")) {
        cpuPid = Long.parseLong(a.substring(10));
      } else if (a.startsWith("--clk-tck=")) {
        clkTck = Long.parseLong(a.substring(10));
      } else if (a.startsWith("--timeout=")) {
        timeoutSeconds = Double.parseDouble(a.substring(10));
      } else {
        System.err.println("unknown option " + a);
        System.exit(2);
      }
    }
    timeoutNanos = (long) (timeoutSeconds * 1e9);
    String head = "POST " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\n"
        + "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
        + "Content-Length: " + body.length + "\r\n\r\n";
    byte[] h = head.getBytes(StandardCharsets.US_ASCII);
    request = Arrays.copyOf(h, h.length + body.length);
    System.arraycopy(body, 0, request, h.length, body.length);

    selector = Selector.open();
    Conn[] all = new Conn[conns];
    for (int i = 0; i < conns; i++) {
      all[i] = new Conn();
    }
    long start = System.nanoTime();
    for (Conn c : all) {
      c.open(start);
    }
    long warmEnd = start + (long) (warmupSeconds * 1e9);
    long end = warmEnd + (long) (seconds * 1e9);
    long windowStart = 0;
    long cpu0 = -1;
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    byte[] arr = buf.array();
    long nextSweep = start + 100_000_000L;
    while (true) {
      long now = System.nanoTime();
      if (!measuring && now >= warmEnd) {
        measuring = true;
        windowStart = now;
        cpu0 = cpuTicks(cpuPid);
      }
      if (now >= end) {
        break;
      }
      long waitMs = Math.max(1, Math.min((Math.min(measuring ? end : warmEnd, nextSweep) - now) / 1_000_000, 100));
      selector.select(waitMs);
      Iterator<SelectionKey> it = selector.selectedKeys().iterator();
      while (it.hasNext()) {
        SelectionKey k = it.next();
        it.remove();
        Conn c = (Conn) k.attachment();
        if (!k.isValid()) {
          continue;
        }
        if (k.isWritable()) {
          c.flush(System.nanoTime());
          if (!k.isValid()) {
            continue;
          }
        }
        if (k.isReadable()) {
          buf.clear();
          int n;
          try {
            n = c.ch.read(buf);
          } catch (IOException e) {
            c.fail(System.nanoTime(), "read: " + e.getMessage());
            continue;
          }
          long t = System.nanoTime();
          if (n < 0) {
            c.eof(t);
          } else if (n > 0) {
            c.feed(arr, 0, n, t);
          }
        }
      }
      now = System.nanoTime();
      if (now >= nextSweep) {
        nextSweep = now + 100_000_000L;
        for (Conn c : all) {
          c.sweep(now);
        }
      }
    }
    long windowEnd = System.nanoTime();
    long cpu1 = cpuTicks(cpuPid);
    stopping = true;
    for (Conn c : all) {
      c.close();
    }
    selector.close();
    report(host + ":" + port + path, conns, seconds, warmupSeconds, (windowEnd - windowStart) / 1e3,
        cpu0 < 0 || cpu1 < 0 ? -1 : cpu1 - cpu0, cpuPid, clkTck);
  }

  private static void report(String target, int conns, double seconds, double warmup, double durationUs, long cpuTicks,
      long pid, long clkTck) {
    long[] fb = Arrays.copyOf(firstByte, samples);
    long[] tt = Arrays.copyOf(total, samples);
    Arrays.sort(fb);
    Arrays.sort(tt);
    double rps = samples / (durationUs / 1e6);
    double perStream = events > 0 && samples > 0 ? (double) events / samples : 0;
    System.out.printf(Locale.ROOT, "StreamLoad %s c=%d, %.0f s after %.0f s of warm-up%n", target, conns, seconds,
        warmup);
    System.out.printf(Locale.ROOT, "  %d streams in %.2f s = %.1f streams/s, %.1f SSE events per stream%n", samples,
        durationUs / 1e6, rps, perStream);
    System.out.printf(Locale.ROOT, "  first byte  p50 %8.3f ms  p90 %8.3f ms  p99 %8.3f ms  max %8.3f ms%n",
        pct(fb, 50) / 1e3, pct(fb, 90) / 1e3, pct(fb, 99) / 1e3, pct(fb, 100) / 1e3);
    System.out.printf(Locale.ROOT, "  total       p50 %8.3f ms  p90 %8.3f ms  p99 %8.3f ms  max %8.3f ms%n",
        pct(tt, 50) / 1e3, pct(tt, 90) / 1e3, pct(tt, 99) / 1e3, pct(tt, 100) / 1e3);
    System.out.printf(Locale.ROOT, "  errors: non-2xx %d, 2xx without [DONE] %d, socket %d (warm-up: %d)%n", statusErr,
        doneErr, socketErr, warmupErr);
    if (cpuTicks >= 0 && samples > 0) {
      double us = cpuTicks * 1e6 / clkTck / samples;
      System.out.printf(Locale.ROOT, "  server CPU (pid %d): %.1f µs per stream, %.2f µs per event%n", pid, us,
          perStream > 0 ? us / perStream : 0);
    }
    System.out.printf(Locale.ROOT, "RESULT streams=%d duration_us=%.0f rps=%.1f fb_p50_us=%d fb_p90_us=%d fb_p99_us=%d "
            + "fb_max_us=%d total_p50_us=%d total_p90_us=%d total_p99_us=%d total_max_us=%d events=%d "
            + "status_err=%d done_err=%d socket_err=%d warmup_err=%d cpu_ticks=%d%n",
        samples, durationUs, rps, pct(fb, 50), pct(fb, 90), pct(fb, 99), pct(fb, 100), pct(tt, 50), pct(tt, 90),
        pct(tt, 99), pct(tt, 100), events, statusErr, doneErr, socketErr, warmupErr, cpuTicks);
  }

  /** Nearest-rank percentile of sorted nanoseconds, in whole microseconds (0 when empty). */
  private static long pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1000;
  }

  /** utime + stime of a process in clock ticks, or -1. */
  private static long cpuTicks(long pid) {
    if (pid <= 0) {
      return -1;
    }
    try {
      String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of proc(5)
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static void error(int kind) {
    if (!measuring) {
      warmupErr++;
    } else if (kind == 0) {
      statusErr++;
    } else if (kind == 1) {
      doneErr++;
    } else {
      socketErr++;
    }
  }

  private static void record(long fbNanos, long totalNanos, int streamEvents) {
    if (samples == firstByte.length) {
      firstByte = Arrays.copyOf(firstByte, samples * 2);
      total = Arrays.copyOf(total, samples * 2);
    }
    firstByte[samples] = fbNanos;
    total[samples] = totalNanos;
    samples++;
    events += streamEvents;
  }

  /** One keep-alive connection and the response being read on it. */
  private static final class Conn {
    SocketChannel ch;
    SelectionKey key;
    ByteBuffer out;
    long retryAt;        // when a connection that could not be opened is tried again (0: open)
    boolean busy;        // a request is out
    long t0;             // nanoTime before the request's write
    long tFirst;         // nanoTime of the read that brought the first body byte (0: none yet)

    // response parsing
    private static final int HEAD = 0;
    private static final int SIZE = 1;
    private static final int DATA = 2;
    private static final int DATA_END = 3;
    private static final int TRAILER = 4;
    private static final int PLAIN = 5;
    private static final int TO_CLOSE = 6;
    int state;
    final byte[] head = new byte[MAX_HEAD];
    int headLen;
    int status;
    boolean close;
    long left;           // chunk bytes left (DATA) or Content-Length bytes left (PLAIN)
    long size;           // chunk size being read
    boolean sizeDigits;  // past the size's hex digits (an extension or whitespace follows)
    int lineLen;         // length of the current trailer line
    int streamEvents;
    byte prev;           // last body byte, for "\n\n" event boundaries
    int doneMatch;       // bytes of "data: [DONE]" matched so far
    boolean sawDone;

    void open(long now) {
      try {
        ch = SocketChannel.open();
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.socket().connect(new InetSocketAddress(host, port), 5_000);
        ch.configureBlocking(false);
        key = ch.register(selector, SelectionKey.OP_READ, this);
        retryAt = 0;
      } catch (IOException e) {
        closeChannel();
        retryAt = now + 100_000_000L;
        error(2);
        warn("connect: " + e.getMessage());
        return;
      }
      send(now);
    }

    void send(long now) {
      if (stopping) {
        return;
      }
      state = HEAD;
      headLen = 0;
      status = 0;
      close = false;
      tFirst = 0;
      streamEvents = 0;
      prev = 0;
      doneMatch = 0;
      sawDone = false;
      busy = true;
      out = ByteBuffer.wrap(request);
      t0 = System.nanoTime();
      flush(t0);
    }

    void flush(long now) {
      try {
        ch.write(out);
      } catch (IOException e) {
        fail(now, "write: " + e.getMessage());
        return;
      }
      key.interestOps(out.hasRemaining() ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
    }

    void feed(byte[] b, int off, int len, long now) {
      int i = off;
      int end = off + len;
      while (i < end) {
        switch (state) {
          case HEAD -> {
            byte c = b[i++];
            if (headLen == MAX_HEAD) {
              fail(now, "response head over " + MAX_HEAD + " bytes");
              return;
            }
            head[headLen++] = c;
            if (c == '\n' && headLen >= 4 && head[headLen - 2] == '\r' && head[headLen - 3] == '\n'
                && head[headLen - 4] == '\r') {
              if (!parseHead(now)) {
                return;
              }
            }
          }
          case SIZE -> {
            byte c = b[i++];
            if (c == '\n') {
              if (size == 0) {
                state = TRAILER;
                lineLen = 0;
              } else {
                state = DATA;
                left = size;
              }
            } else if (!sizeDigits && Character.digit(c, 16) >= 0) {
              size = size * 16 + Character.digit(c, 16);
            } else if (c != '\r') {
              sizeDigits = true; // ";ext" or whitespace
            }
          }
          case DATA -> {
            int take = (int) Math.min(end - i, left);
            body(b, i, take, now);
            i += take;
            left -= take;
            if (left == 0) {
              state = DATA_END;
            }
          }
          case DATA_END -> {
            if (b[i++] == '\n') {
              state = SIZE;
              size = 0;
              sizeDigits = false;
            }
          }
          case TRAILER -> {
            byte c = b[i++];
            if (c == '\n') {
              if (lineLen == 0) {
                if (i < end) {
                  fail(now, "bytes after the end of the response");
                  return;
                }
                finish(now);
                return;
              }
              lineLen = 0;
            } else if (c != '\r') {
              lineLen++;
            }
          }
          case PLAIN -> {
            int take = (int) Math.min(end - i, left);
            body(b, i, take, now);
            i += take;
            left -= take;
            if (left == 0) {
              if (i < end) {
                fail(now, "bytes after the end of the response");
                return;
              }
              finish(now);
              return;
            }
          }
          case TO_CLOSE -> {
            body(b, i, end - i, now);
            i = end;
          }
          default -> {
            fail(now, "idle connection received data");
            return;
          }
        }
      }
    }

    private boolean parseHead(long now) {
      String[] lines = new String(head, 0, headLen, StandardCharsets.ISO_8859_1).split("\r\n");
      String[] statusLine = lines[0].split(" ", 3);
      try {
        status = Integer.parseInt(statusLine[1]);
      } catch (RuntimeException e) {
        fail(now, "bad status line: " + lines[0]);
        return false;
      }
      close = lines[0].startsWith("HTTP/1.0");
      boolean chunked = false;
      long length = -1;
      for (int k = 1; k < lines.length; k++) {
        int colon = lines[k].indexOf(':');
        if (colon <= 0) {
          continue;
        }
        String name = lines[k].substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = lines[k].substring(colon + 1).trim().toLowerCase(Locale.ROOT);
        switch (name) {
          case "transfer-encoding" -> chunked = value.contains("chunked");
          case "content-length" -> length = Long.parseLong(value);
          case "connection" -> close = value.contains("close") ? true : value.contains("keep-alive") ? false : close;
          default -> { }
        }
      }
      if (status >= 100 && status < 200) { // an interim response (100 Continue): the real one follows
        headLen = 0;
        return true;
      }
      if (chunked) {
        state = SIZE;
        size = 0;
        sizeDigits = false;
      } else if (length >= 0) {
        state = PLAIN;
        left = length;
        if (length == 0) {
          finish(now);
          return false;
        }
      } else {
        state = TO_CLOSE;
        close = true;
      }
      return true;
    }

    private void body(byte[] b, int off, int len, long now) {
      if (len > 0 && tFirst == 0) {
        tFirst = now;
      }
      for (int k = off; k < off + len; k++) {
        byte c = b[k];
        if (!sawDone) {
          if (c == DONE[doneMatch]) {
            if (++doneMatch == DONE.length) {
              sawDone = true;
            }
          } else {
            doneMatch = c == DONE[0] ? 1 : 0;
          }
        }
        if (c == '\n' && prev == '\n') {
          streamEvents++;
          c = 0; // "\n\n\n" is one boundary, not two
        }
        prev = c;
      }
    }

    /** The response is complete at {@code now}: record it, then the next request (or reconnect). */
    private void finish(long now) {
      busy = false;
      state = -1;
      boolean ok = status >= 200 && status < 300;
      if (!ok) {
        error(0);
      } else if (!sawDone) {
        error(1);
      } else if (measuring) {
        record((tFirst == 0 ? now : tFirst) - t0, now - t0, streamEvents);
      }
      if (close) {
        closeChannel();
        open(now);
      } else {
        send(now);
      }
    }

    void eof(long now) {
      if (state == TO_CLOSE) {
        close = true;
        finish(now);
        return;
      }
      fail(now, busy ? "connection closed mid-response" : "connection closed");
    }

    void fail(long now, String why) {
      if (stopping) {
        return;
      }
      error(2);
      warn(why);
      closeChannel();
      retryAt = now; // reopened by the next sweep (within 0.1 s): a failing server cannot make this recurse
    }

    /** Reopens a connection that failed or could not be opened; fails a response that takes too long. */
    void sweep(long now) {
      if (ch == null) {
        if (retryAt != 0 && now >= retryAt) {
          open(now);
        }
      } else if (busy && now - t0 > timeoutNanos) {
        fail(now, "no complete response within " + timeoutNanos / 1_000_000_000L + " s");
      }
    }

    private void closeChannel() {
      busy = false;
      if (ch != null) {
        try {
          ch.close();
        } catch (IOException ignored) {
          // closing anyway
        }
        ch = null;
        key = null;
      }
    }

    void close() {
      closeChannel();
    }
  }

  private static long warned;

  private static void warn(String what) {
    if (warned++ < 20) {
      System.err.println("StreamLoad: " + what);
    } else if (warned == 21) {
      System.err.println("StreamLoad: (further errors not shown)");
    }
  }
}
