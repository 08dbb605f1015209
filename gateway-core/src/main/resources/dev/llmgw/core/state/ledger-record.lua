-- Adds one finished call to its workflow, exactly once (KEYS[3] marks it done), keeps the index of
-- workflows by last activity, and bounds the ledger: entries idle longer than the expiry and, beyond
-- the maximum count, the least recently active leave.
-- KEYS: 1 workflow hash, 2 index (sorted set: workflow key by last activity), 3 once-marker
-- ARGV: 1 id, 2 type, 3 attempts, 4 retries, 5 fallbacks, 6 failed (0/1), 7 prompt tokens (-1 none),
--       8 completion tokens, 9 estimated (0/1), 10 cost ('' unknown), 11 baseline ('' unknown),
--       12 tier ('' none), 13 expiry ms, 14 max workflows
local ttl = tonumber(ARGV[13])
if redis.call('SET', KEYS[3], '1', 'PX', ttl, 'NX') == false then return 0 end
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
local h = KEYS[1]
if redis.call('EXISTS', h) == 0 then
  redis.call('HSET', h, 'id', ARGV[1], 'type', ARGV[2], 'first', now)
end
redis.call('HINCRBY', h, 'calls', 1)
redis.call('HINCRBY', h, 'attempts', tonumber(ARGV[3]))
redis.call('HINCRBY', h, 'retries', tonumber(ARGV[4]))
redis.call('HINCRBY', h, 'fallbacks', tonumber(ARGV[5]))
redis.call('HINCRBY', h, 'failed', tonumber(ARGV[6]))
local prompt = tonumber(ARGV[7])
if prompt >= 0 then
  redis.call('HINCRBY', h, 'prompt', prompt)
  redis.call('HINCRBY', h, 'completion', tonumber(ARGV[8]))
  if ARGV[9] == '1' then redis.call('HSET', h, 'estimated', '1') end
  if ARGV[10] == '' then redis.call('HSET', h, 'costUnknown', '1') end
  if ARGV[11] == '' then redis.call('HSET', h, 'baselineUnknown', '1') end
end
if ARGV[10] ~= '' then redis.call('HINCRBYFLOAT', h, 'cost', ARGV[10]) end
if ARGV[11] ~= '' then redis.call('HINCRBYFLOAT', h, 'baseline', ARGV[11]) end
if ARGV[12] ~= '' then redis.call('HSET', h, 'tier', ARGV[12]) end
redis.call('HSET', h, 'last', now)
redis.call('PEXPIRE', h, ttl)
local index = KEYS[2]
redis.call('ZADD', index, now, h)
redis.call('ZREMRANGEBYSCORE', index, '-inf', now - ttl)
local n = redis.call('ZCARD', index)
local max = tonumber(ARGV[14])
if n > max then
  local old = redis.call('ZRANGE', index, 0, n - max - 1)
  for _, k in ipairs(old) do redis.call('DEL', k) end
  redis.call('ZREMRANGEBYRANK', index, 0, n - max - 1)
end
return 1
