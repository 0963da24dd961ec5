-- webhook_create: register a webhook endpoint and list it under its scope.
-- KEYS[1]  endpoint hash   KEYS[2] endpoints zset   KEYS[3] scope set
-- ARGV[1]  endpoint id   ARGV[2] created ms   ARGV[3..] the endpoint's fields, name, value …
-- Reply    {"ok", 1} | {"ok", 0} when the id is taken (never overwrite an endpoint)
if redis.call('EXISTS', KEYS[1]) == 1 then return {'ok', 0} end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return {'ok', 1}
