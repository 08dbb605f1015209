-- Settlement of one request, exactly once (a replay after a lost answer is a no-op): corrects the
-- tokens bucket by what was debited beyond the real count, releases the reservation and adds the real
-- cost to the spend of the key and its team.
-- KEYS: 1 tokens bucket, 2 key account, 3 key reservations, 4 team account, 5 team reservations,
--       6 the settlement's once-marker
-- ARGV: 1 tpm (0 none), 2 tokens to give back (negative: to take), 3 reservation member ('' none),
--       4 reserved micros, 5 actual micros, 6 '1' key account, 7 '1' team account, 8 account expiry ms
-- Returns {key used, team used} (spent + reserved; -1 without that account), or {-2, -2} for a replay
-- the marker outlives any replay (the queue drains within minutes of Redis coming back)
if redis.call('SET', KEYS[6], '1', 'PX', 3600000, 'NX') == false then return {-2, -2} end
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
local tpm, delta = tonumber(ARGV[1]), tonumber(ARGV[2])
if tpm > 0 and delta ~= 0 then
  local v = redis.call('HMGET', KEYS[1], 'a', 't')
  local a, t = tonumber(v[1]), tonumber(v[2])
  if a == nil or t == nil then a = tpm elseif now > t then a = math.min(tpm, a + (now - t) * tpm / 60000) end
  a = math.min(tpm, a + delta)
  redis.call('HSET', KEYS[1], 'a', string.format('%.6f', a), 't', now)
  redis.call('PEXPIRE', KEYS[1], 120000)
end
local reserved, actual, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[8])
local function settle(h, z)
  if ARGV[3] ~= '' and redis.call('ZREM', z, ARGV[3]) == 1 then
    redis.call('HINCRBY', h, 'reserved', -reserved)
  end
  redis.call('HINCRBY', h, 'spent', actual)
  redis.call('PEXPIRE', h, ttl)
  local v = redis.call('HMGET', h, 'spent', 'reserved')
  return (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0)
end
local a, b = -1, -1
if ARGV[6] == '1' then a = settle(KEYS[2], KEYS[3]) end
if ARGV[7] == '1' then b = settle(KEYS[4], KEYS[5]) end
return {a, b}
