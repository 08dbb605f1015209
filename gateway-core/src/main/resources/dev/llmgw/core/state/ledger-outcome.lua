-- Records a workflow's outcome, replacing any reported before; returns {type, previous outcome ('' none),
-- previous repair minutes ('' none)}, read in the same step so that concurrent posts from several replicas
-- each see what they replaced; or an empty array when the workflow is unknown (never seen, expired, or in
-- another namespace).
-- KEYS: 1 workflow hash, 2 index
-- ARGV: 1 outcome, 2 repair minutes, 3 value ('' none), 4 expiry ms
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local prev = redis.call('HMGET', KEYS[1], 'type', 'outcome', 'repair')
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
redis.call('HSET', KEYS[1], 'outcome', ARGV[1], 'repair', ARGV[2], 'value', ARGV[3], 'outcomeAt', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
redis.call('ZADD', KEYS[2], now, KEYS[1])
return {prev[1] or '', prev[2] or '', prev[3] or ''}
