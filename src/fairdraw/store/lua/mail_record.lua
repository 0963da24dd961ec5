-- mail_record: record one attempt to send a message.
-- KEYS[1]  message hash   KEYS[2] due zset
-- ARGV[1]  message id   ARGV[2] outcome: sent | retry | failed   ARGV[3] attempts so far
-- ARGV[4]  error ("" if none)   ARGV[5] now (ms)   ARGV[6] when to retry (ms)
-- Reply    {"ok", 1} | {"ok", 0} when the message is gone (expired: it is unscheduled)
-- sent and failed unschedule the message and erase its text and address, which the
-- store need not keep once nothing more will be sent.
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {'ok', 0}
end
local status = ARGV[2]
if status == 'retry' then status = 'pending' end
redis.call('HSET', KEYS[1], 'status', status, 'attempts', ARGV[3], 'last_error', ARGV[4],
  'last_ms', ARGV[5])
if ARGV[2] == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[1], 'text', 'to')
end
return {'ok', 1}
