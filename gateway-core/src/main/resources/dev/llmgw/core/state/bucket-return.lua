-- Gives unused requests or tokens of a lease back to a key's per-minute bucket (never above its limit).
-- KEYS: 1 bucket, 2 once-marker; ARGV: 1 limit, 2 amount
if redis.call('SET', KEYS[2], '1', 'PX', 600000, 'NX') == false then return 0 end
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
local limit = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'a', 't')
local a, t = tonumber(v[1]), tonumber(v[2])
if a == nil or t == nil then return 0 end -- gone: the bucket is full again anyway
if now > t then a = math.min(limit, a + (now - t) * limit / 60000) end
a = math.min(limit, a + tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'a', string.format('%.6f', a), 't', now)
redis.call('PEXPIRE', KEYS[1], 120000)
return 1
