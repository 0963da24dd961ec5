-- webhook_record: record one delivery attempt of an endpoint's first queued message.
-- KEYS[1]  endpoint hash   KEYS[2] its queue   KEYS[3] due zset   KEYS[4] message hash
-- ARGV[1]  endpoint id   ARGV[2] message id   ARGV[3] outcome: delivered | retry | failed
-- ARGV[4]  attempts so far   ARGV[5] HTTP status ("" if none)   ARGV[6] error ("" if none)
-- ARGV[7]  now (ms)   ARGV[8] when the endpoint is next due: the retry, or (after
--          delivered or failed, if more messages wait) now, or later while the worker
--          that recorded this goes on delivering them
-- Reply    {"ok", 1} | {"ok", 0} when the endpoint is gone or the message is not its first
-- delivered and failed take the message off the queue; retry keeps it first, so the
-- messages of one endpoint arrive in the order they were queued.
if redis.call('EXISTS', KEYS[1]) == 0 then return {'ok', 0} end
if redis.call('LINDEX', KEYS[2], 0) ~= ARGV[2] then return {'ok', 0} end
local status = ARGV[3]
if status == 'retry' then status = 'pending' end
local kind = redis.call('HGET', KEYS[4], 'type') or ''
if redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('HSET', KEYS[4], 'status', status, 'attempts', ARGV[4], 'last_code', ARGV[5],
    'last_error', ARGV[6], 'last_ms', ARGV[7])
end
local shown = status
if ARGV[3] == 'retry' then shown = 'retrying' end
redis.call('HSET', KEYS[1], 'last_message', ARGV[2], 'last_type', kind, 'last_status', shown,
  'last_attempts', ARGV[4], 'last_code', ARGV[5], 'last_error', ARGV[6], 'last_ms', ARGV[7])
if ARGV[3] == 'retry' then
  redis.call('ZADD', KEYS[3], ARGV[8], ARGV[1])
  return {'ok', 1}
end
redis.call('LPOP', KEYS[2])
if redis.call('LLEN', KEYS[2]) > 0 then
  redis.call('ZADD', KEYS[3], ARGV[8], ARGV[1])
else
  redis.call('ZREM', KEYS[3], ARGV[1])
end
return {'ok', 1}
