-- Admission of one request, atomically: rate windows (token buckets refilled per minute), then the
-- hard budgets of the key and its team, then the reservation on both. Nothing changes on a refusal.
-- KEYS: 1 requests bucket, 2 tokens bucket, 3 key account, 4 key reservations, 5 team account,
--       6 team reservations
-- ARGV: 1 rpm (0 none), 2 tpm (0 none), 3 tokens, 4 micros to reserve, 5 key hard budget in micros
--       ('' no key account, -1 no hard), 6 team hard budget (same), 7 reservation id, 8 lease ms,
--       9 account expiry ms
-- Returns {code, retry ms, requests left, requests reset ms, tokens left, tokens reset ms, key used,
--          team used}; code 0 admitted, 1 requests, 2 tokens, 3 key budget, 4 team budget
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
local rpm, tpm, tokens, micros = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])

local function load(key, limit)
  local v = redis.call('HMGET', key, 'a', 't')
  local a, t = tonumber(v[1]), tonumber(v[2])
  if a == nil or t == nil then return limit end
  if now > t then a = math.min(limit, a + (now - t) * limit / 60000) end
  return a
end
local function save(key, a)
  redis.call('HSET', key, 'a', string.format('%.6f', a), 't', now)
  redis.call('PEXPIRE', key, 120000)
end
local function wait(a, amount, limit)
  local missing = math.min(amount, limit) - a
  if missing <= 0 then return 0 end
  return math.ceil(missing * 60000 / limit)
end
local ra, ta = 0, 0
if rpm > 0 then ra = load(KEYS[1], rpm) end
if tpm > 0 then ta = load(KEYS[2], tpm) end
local function figures(code, retry)
  local rr, rt = 0, 0
  if rpm > 0 then rr = wait(ra, rpm, rpm) end
  if tpm > 0 then rt = wait(ta, tpm, tpm) end
  return {code, retry, math.floor(math.max(0, ra)), rr, math.floor(math.max(0, ta)), rt, -1, -1}
end
if rpm > 0 and ra < 1 and ra < rpm then return figures(1, math.max(1, wait(ra, 1, rpm))) end
if tpm > 0 and ta < tokens and ta < tpm then return figures(2, math.max(1, wait(ta, tokens, tpm))) end

local function used(h, z)
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  if #expired > 0 then
    local sum = 0
    for _, m in ipairs(expired) do sum = sum + tonumber(string.match(m, ':(%d+)$')) end
    redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
    redis.call('HINCRBY', h, 'reserved', -sum)
  end
  local v = redis.call('HMGET', h, 'spent', 'reserved')
  return (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0)
end
local usedA, usedB = -1, -1
if ARGV[5] ~= '' then
  usedA = used(KEYS[3], KEYS[4])
  local hard = tonumber(ARGV[5])
  if hard >= 0 and usedA + micros > hard then return figures(3, 0) end
end
if ARGV[6] ~= '' then
  usedB = used(KEYS[5], KEYS[6])
  local hard = tonumber(ARGV[6])
  if hard >= 0 and usedB + micros > hard then return figures(4, 0) end
end

if rpm > 0 then ra = ra - 1; save(KEYS[1], ra) end
if tpm > 0 then ta = ta - tokens; save(KEYS[2], ta) end
local deadline, ttl = now + tonumber(ARGV[8]), tonumber(ARGV[9])
local function reserve(h, z)
  redis.call('HINCRBY', h, 'reserved', micros)
  redis.call('ZADD', z, deadline, ARGV[7] .. ':' .. micros)
  redis.call('PEXPIRE', h, ttl)
  redis.call('PEXPIRE', z, ttl)
end
if usedA >= 0 then reserve(KEYS[3], KEYS[4]); usedA = usedA + micros end
if usedB >= 0 then reserve(KEYS[5], KEYS[6]); usedB = usedB + micros end
local result = figures(0, 0)
result[7], result[8] = usedA, usedB
return result
