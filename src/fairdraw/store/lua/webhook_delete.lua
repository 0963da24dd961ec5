-- webhook_delete: remove an endpoint with its queue and its undelivered messages.
-- KEYS[1]  endpoint hash   KEYS[2] endpoints zset   KEYS[3] scope set   KEYS[4] queue
-- KEYS[5]  due zset   KEYS[6..] the messages in the queue
-- ARGV[1]  endpoint id
-- Reply    {"ok", 1} | {"ok", 0} when there was no such endpoint
-- A message queued between reading the queue and this script stays, and expires.
if redis.call('EXISTS', KEYS[1]) == 0 then return {'ok', 0} end
redis.call('DEL', KEYS[1], KEYS[4])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
for i = 6, #KEYS do redis.call('DEL', KEYS[i]) end
return {'ok', 1}
