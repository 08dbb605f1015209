-- wrk script: POST a realistic ~1 KB OpenAI chat request (bench/wrk/chat-request.json, or $WRK_BODY)
-- to the URL's path, keep-alive, and print one machine-readable RESULT line at the end.
-- The body is set once per thread; no Lua runs per request, so wrk stays as cheap as possible.
local path = os.getenv("WRK_BODY") or "bench/wrk/chat-request.json"
local f = assert(io.open(path, "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
-- WRK_AUTH: a gateway key, sent as the OpenAI SDKs send it (bench/state.sh: keyed requests)
local auth = os.getenv("WRK_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. auth
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
