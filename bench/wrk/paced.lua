-- wrk script for latency at a fixed offered rate: post.lua (POST of $WRK_BODY, one RESULT line at the
-- end) plus a random pause after every response on each connection, so that the c connections
-- together offer about $WRK_RATE requests per second.
--
-- The pauses are exponential (memoryless, like independent clients), with mean c / rate seconds, so
-- the arrivals are close to a Poisson stream instead of c connections marching in step. wrk takes
-- the pause in whole milliseconds, so it is rounded stochastically (floor(x + U)) to keep the mean.
-- Latency is timed from the moment each request is written (wrk's own clock), pauses excluded.
-- The achieved rate is a little under the offered one (each cycle also waits for its response); the
-- RESULT line reports what was achieved.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "post.lua") -- the request, the headers and done()

local rate = tonumber(os.getenv("WRK_RATE") or "")
local conns = tonumber(os.getenv("WRK_CONNS") or "")
assert(rate and rate > 0 and conns and conns > 0, "set WRK_RATE (requests/s, all connections) and WRK_CONNS (= -c)")
local mean_ms = conns * 1000 / rate

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000))
end

function delay()
  local x = -mean_ms * math.log(1 - math.random())
  return math.floor(x + math.random())
end
