-- What one gateway did with its lease of a budget since the last flush, exactly once (KEYS[4] marks
-- it done): the cost of settled requests moves from the lease to the spend, what it does not need
-- any more goes back, and the lease's expiry is renewed while the gateway lives.
-- KEYS: 1 account, 2 leases, 3 lease expiries, 4 once-marker
-- ARGV: 1 member, 2 spent micros, 3 micros given back, 4 lease ms, 5 account expiry ms
-- Returns spent + reserved of the account afterwards (-2 for a replay already applied)
if redis.call('SET', KEYS[4], '1', 'PX', 600000, 'NX') == false then return -2 end
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
local member, spent, back = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local held = tonumber(redis.call('HGET', KEYS[2], member)) or 0
-- the lease may have expired (and been released) meanwhile: release only what is still held
local release = math.min(spent + back, held)
if release > 0 then
  redis.call('HINCRBY', KEYS[1], 'reserved', -release)
  redis.call('HINCRBY', KEYS[2], member, -release)
end
if spent ~= 0 then redis.call('HINCRBY', KEYS[1], 'spent', spent) end
if held - release > 0 then
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), member)
else
  redis.call('HDEL', KEYS[2], member)
  redis.call('ZREM', KEYS[3], member)
end
local expiry = tonumber(ARGV[5])
redis.call('PEXPIRE', KEYS[1], expiry)
local v = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
return (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0)
