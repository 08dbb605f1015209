-- Adds one gateway's per-caller totals since its last flush to the daily hashes, exactly once
-- (KEYS[1] marks it done). ARGV: 1 expiry ms, then 9 per row: the day's hash, the field prefix
-- (kind|name), requests, cost, unpriced, compared cost, baseline cost, cache hits, money cache hits saved.
if redis.call('SET', KEYS[1], '1', 'PX', 600000, 'NX') == false then return 0 end
local expiry = tonumber(ARGV[1])
local i = 2
while i <= #ARGV do
  local h, f = ARGV[i], ARGV[i + 1]
  redis.call('HINCRBY', h, f .. '|requests', tonumber(ARGV[i + 2]))
  redis.call('HINCRBYFLOAT', h, f .. '|cost', ARGV[i + 3])
  redis.call('HINCRBY', h, f .. '|unpriced', tonumber(ARGV[i + 4]))
  redis.call('HINCRBYFLOAT', h, f .. '|compared', ARGV[i + 5])
  redis.call('HINCRBYFLOAT', h, f .. '|baseline', ARGV[i + 6])
  redis.call('HINCRBY', h, f .. '|cacheHits', tonumber(ARGV[i + 7]))
  redis.call('HINCRBYFLOAT', h, f .. '|cacheSaved', ARGV[i + 8])
  redis.call('PEXPIRE', h, expiry)
  i = i + 9
end
return 1
