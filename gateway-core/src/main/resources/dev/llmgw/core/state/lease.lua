-- Leases capacity to one gateway, atomically for every resource a request needs: the key's
-- requests and tokens per minute (token buckets refilled per minute) and the hard budgets of the key
-- and its team. All or nothing: nothing changes when one resource cannot cover its need.
-- A lease is the need itself when what is left covers fewer than 256 such needs (so N gateways together
-- admit exactly what the limit allows), or a sixteenth of what is left when there is more room (so most
-- requests are admitted from the gateway's own lease, without a round trip). Budget leases are held per gateway
-- (the leases hash, member = gateway instance) with an expiry (the sorted set): a gateway that dies
-- holds nothing once its lease expires.
-- KEYS: 1 requests bucket, 2 tokens bucket, 3 key account, 4 key leases, 5 key lease expiries,
--       6 team account, 7 team leases, 8 team lease expiries
-- ARGV: 1 rpm, 2 requests needed (0: not asked), 3 tpm, 4 tokens needed (0: not asked),
--       5 key hard budget in micros ('' not asked, -1 no hard), 6 key micros needed, 7 team hard, 8 team
--       micros needed, 9 member, 10 lease ms, 11 account expiry ms
-- Returns {code, retry ms, requests granted, tokens granted, key micros granted, team micros granted,
--          requests left, tokens left, key used, team used}; code 0 granted, 1 requests, 2 tokens,
--          3 key budget, 4 team budget
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
local member, lease, expiry = ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11])

local function load(key, limit)
  local v = redis.call('HMGET', key, 'a', 't')
  local a, t = tonumber(v[1]), tonumber(v[2])
  if a == nil or t == nil then return limit end
  if now > t then a = math.min(limit, a + (now - t) * limit / 60000) end
  return a
end
local function wait(a, amount, limit)
  local missing = math.min(amount, limit) - a
  if missing <= 0 then return 0 end
  return math.max(1, math.ceil(missing * 60000 / limit))
end
-- exactly the need until there is room for 256 of them: a limit that small is reached at a pace where a
-- round trip per request costs nothing, and no replica then holds capacity another one is refused
local function chunk(room, need)
  if room >= need * 256 then return math.max(need, math.floor(room / 16)) end
  return need
end
local function used(h, l, z)
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  for _, m in ipairs(expired) do
    local amount = tonumber(redis.call('HGET', l, m)) or 0
    if amount > 0 then redis.call('HINCRBY', h, 'reserved', -amount) end
    redis.call('HDEL', l, m)
  end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', now) end
  local v = redis.call('HMGET', h, 'spent', 'reserved')
  return (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0)
end

local rpm, needR, tpm, needT = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local ra, ta, gR, gT = 0, 0, 0, 0
if needR > 0 then
  ra = load(KEYS[1], rpm)
  if ra < needR and ra < rpm then return {1, wait(ra, needR, rpm), 0, 0, 0, 0, math.floor(math.max(0, ra)), 0, -1, -1} end
  gR = chunk(ra, needR)
end
if needT > 0 then
  ta = load(KEYS[2], tpm)
  if ta < needT and ta < tpm then return {2, wait(ta, needT, tpm), 0, 0, 0, 0, 0, math.floor(math.max(0, ta)), -1, -1} end
  gT = chunk(math.max(ta, 0), needT)
  if ta < needT then gT = needT end -- a request larger than the whole limit starts on a full bucket
end
local usedA, usedB, gA, gB = -1, -1, 0, 0
local function account(hard, need, h, l, z, code)
  local u = used(h, l, z)
  local limit = tonumber(hard)
  if limit >= 0 and u + need > limit then return nil, u, code end
  if limit >= 0 then return chunk(limit - u, need), u, 0 end
  return need * 16, u, 0
end
if ARGV[5] ~= '' then
  local c
  gA, usedA, c = account(ARGV[5], tonumber(ARGV[6]), KEYS[3], KEYS[4], KEYS[5], 3)
  if gA == nil then return {3, 0, 0, 0, 0, 0, 0, 0, usedA, -1} end
end
if ARGV[7] ~= '' then
  local c
  gB, usedB, c = account(ARGV[7], tonumber(ARGV[8]), KEYS[6], KEYS[7], KEYS[8], 4)
  if gB == nil then return {4, 0, 0, 0, 0, 0, 0, 0, usedA, usedB} end
end

local function take(key, a, g)
  redis.call('HSET', key, 'a', string.format('%.6f', a - g), 't', now)
  redis.call('PEXPIRE', key, 120000)
end
if gR > 0 then take(KEYS[1], ra, gR) end
if gT > 0 then take(KEYS[2], ta, gT) end
local function hold(h, l, z, g)
  redis.call('HINCRBY', h, 'reserved', g)
  redis.call('HINCRBY', l, member, g)
  redis.call('ZADD', z, now + lease, member)
  redis.call('PEXPIRE', h, expiry)
  redis.call('PEXPIRE', l, expiry)
  redis.call('PEXPIRE', z, expiry)
end
if ARGV[5] ~= '' then hold(KEYS[3], KEYS[4], KEYS[5], gA); usedA = usedA + gA end
if ARGV[7] ~= '' then hold(KEYS[6], KEYS[7], KEYS[8], gB); usedB = usedB + gB end
return {0, 0, gR, gT, gA, gB, math.floor(math.max(0, ra - gR)), math.floor(math.max(0, ta - gT)), usedA, usedB}
