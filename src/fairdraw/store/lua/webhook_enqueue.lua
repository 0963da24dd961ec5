-- webhook_enqueue: queue one message for an endpoint, once.
-- KEYS[1]  endpoint hash   KEYS[2] its queue   KEYS[3] due zset   KEYS[4] message hash
-- ARGV[1]  endpoint id   ARGV[2] message id   ARGV[3] type   ARGV[4] body
-- ARGV[5]  now (ms)   ARGV[6] how long the message is kept (ms)
-- Reply    {"ok", 1} when queued; {"ok", 0} when the message exists already (the event
--          was announced before) or the endpoint is gone
if redis.call('EXISTS', KEYS[1]) == 0 then return {'ok', 0} end
if redis.call('EXISTS', KEYS[4]) == 1 then return {'ok', 0} end
redis.call('HSET', KEYS[4], 'endpoint', ARGV[1], 'type', ARGV[3], 'body', ARGV[4],
  'status', 'pending', 'attempts', 0, 'created_ms', ARGV[5])
redis.call('PEXPIRE', KEYS[4], ARGV[6])
redis.call('RPUSH', KEYS[2], ARGV[2])
-- Due now, unless the endpoint already waits (a retry, or a delivery in flight).
redis.call('ZADD', KEYS[3], 'NX', ARGV[5], ARGV[1])
return {'ok', 1}
