-- webhook_idle: an endpoint whose queue is empty is no longer due.
-- KEYS[1]  its queue   KEYS[2] due zset   ARGV[1] endpoint id
-- Reply    {"ok"}
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[1]) end
return {'ok'}
