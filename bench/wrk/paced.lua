-- wrk script for latency at a fixed offered rate: like post.lua (POST of $WRK_BODY, one RESULT line at
-- the end), but each connection waits a random pause after every response before sending the next
-- request, so that the c connections together offer about $WRK_RATE requests per second.
--
-- The pauses are exponential (memoryless, like independent clients), with mean c / rate seconds, so
-- the arrivals are close to a Poisson stream instead of c connections marching in step. wrk takes
-- the pause in whole milliseconds, so it is rounded stochastically (floor(x + U)) to keep the mean.
-- Latency is timed from the moment each request is written (wrk's own clock), pauses excluded.
-- The achieved rate is a little under the offered one (each cycle also waits for its response); the
-- RESULT line reports what was achieved.
local path = os.getenv("WRK_BODY") or "bench/wrk/chat-request.json"
local f = assert(io.open(path, "rb"))
local body = f:read("*a")
f:close()

local rate = tonumber(os.getenv("WRK_RATE") or "")
local conns = tonumber(os.getenv("WRK_CONNS") or "")
assert(rate and rate > 0 and conns and conns > 0, "set WRK_RATE (requests/s, all connections) and WRK_CONNS (= -c)")
local mean_ms = conns * 1000 / rate

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"

function init(args)
  math.randomseed(os.time() + (wrk.thread and tonumber(tostring(wrk.thread):match("0x(%x+)") or "0", 16) or 0))
end

function delay()
  local x = -mean_ms * math.log(1 - math.random())
  return math.floor(x + math.random())
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bytes=%d rps=%.1f mean_us=%.1f p50_us=%d p90_us=%d p99_us=%d " ..
    "p999_us=%d max_us=%d connect_err=%d read_err=%d write_err=%d status_err=%d timeout_err=%d\n",
    summary.requests, summary.duration, summary.bytes, summary.requests / (summary.duration / 1e6),
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
