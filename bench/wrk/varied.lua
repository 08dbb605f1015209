-- wrk script for the classifier benchmark (bench/semantic.sh): POSTs model "auto" chat requests whose
-- text differs on every request (a template, a topic and a number drawn at random), so that no cache
-- of embeddings or judge verdicts answers for the classifier; paced like paced.lua when WRK_RATE and
-- WRK_CONNS are set. Prints one RESULT line at the end (post.lua's format).
local templates = {
  "Can you help me with %s? I have been stuck on it since %d o'clock.",
  "What is the best way to handle %s when there are %d people involved?",
  "Write a short note about %s for my team of %d.",
  "My neighbour asked me about %s and I said I would check; we have %d days.",
  "Explain %s in simple words, in at most %d sentences.",
  "Is it normal to worry about %s %d times a week?",
  "Give me ideas for %s this weekend, at most %d of them.",
  "How should I respond to an email about %s from %d customers?",
}
local topics = {
  "a leaking kitchen tap", "the quarterly sales summary", "a birthday party for a six-year-old",
  "a strange pain in my chest", "moving money between two accounts", "the backup server",
  "a rash on my son's arm", "a job offer with a non-compete clause", "learning to play the guitar",
  "a smell of gas near the boiler", "deleting old records from the customer database", "baking sourdough",
  "a contract renewal with our landlord", "the new intern's access to production", "planting tomatoes",
  "a refund for a broken blender", "my grandmother mixing her heart pills", "a poem about autumn",
}
local rate = tonumber(os.getenv("WRK_RATE") or "")
local conns = tonumber(os.getenv("WRK_CONNS") or "")
local mean_ms = (rate and conns) and conns * 1000 / rate or nil

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000))
end

if mean_ms then
  function delay()
    local x = -mean_ms * math.log(1 - math.random())
    return math.floor(x + math.random())
  end
end

function request()
  local text = string.format(templates[math.random(#templates)], topics[math.random(#topics)],
    math.random(1, 100000))
  local body = '{"model":"auto","messages":[{"role":"user","content":"' .. text .. '"}]}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "status_err=%d socket_err=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
